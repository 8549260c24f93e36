// Token axes and their view state: counts read in the unit that suits them, and
// the log-scale choice survives a copied link.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAnalysisState, serializeAnalysisState } from "../../../components/analysis/analysis-state";
import { formatTokensB } from "../../../components/charts/format";

describe("token axes", () => {
  it("should label token counts in K, M, B or T, never as tiny fractions of a billion", () => {
    assert.equal(formatTokensB(327_680 / 1e9), "327.7K");
    assert.equal(formatTokensB(1.5e6 / 1e9), "1.5M");
    assert.equal(formatTokensB(2), "2B");
    assert.equal(formatTokensB(1200), "1.2T");
    assert.equal(formatTokensB(512 / 1e9), "512");
  });

  it("should keep the log-scale choice in the URL, and leave the default out", () => {
    const on = serializeAnalysisState({ ...parseAnalysisState(new URLSearchParams("experiment=e1")), xlog: true });
    assert.equal(on.get("xlog"), "1");
    assert.equal(parseAnalysisState(on).xlog, true);
    assert.equal(serializeAnalysisState(parseAnalysisState(new URLSearchParams("experiment=e1"))).has("xlog"), false);
  });
});
