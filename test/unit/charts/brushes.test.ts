// Parallel-coordinates brushes: which merges they keep, and their round trip through the URL.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBrushes, parseAnalysisState, serializeAnalysisState, serializeBrushes } from "../../../components/analysis/analysis-state";
import { passesBrushes } from "../../../components/charts/brushes";

const rows = [
  { method: "TIES", tokensB: 2, score: 40 },
  { method: "TIES-SV", tokensB: 4, score: 45 },
  { method: "TIES", tokensB: 6, score: null },
];

describe("parallel-coordinates brushes", () => {
  it("should keep rows inside every range and set, and drop rows without a value on a brushed axis", () => {
    assert.deepEqual(rows.filter((r) => passesBrushes(r, {})).length, 3);
    assert.deepEqual(rows.filter((r) => passesBrushes(r, { tokensB: { kind: "range", lo: 3, hi: 6 } })).map((r) => r.tokensB), [4, 6]);
    assert.deepEqual(rows.filter((r) => passesBrushes(r, { tokensB: { kind: "range", lo: 3, hi: 6 }, method: { kind: "set", values: ["TIES"] } })).map((r) => r.tokensB), [6]);
    assert.deepEqual(rows.filter((r) => passesBrushes(r, { score: { kind: "range", lo: 0, hi: 100 } })).map((r) => r.tokensB), [2, 4]);
  });

  it("should round-trip through the URL and drop malformed parts", () => {
    const b = { tokensB: { kind: "range" as const, lo: 2.5, hi: 6 }, method: { kind: "set" as const, values: ["TIES", "TIES-SV"] } };
    assert.equal(serializeBrushes(b), "method=TIES|TIES-SV;tokensB:2.5:6");
    assert.deepEqual(parseBrushes(serializeBrushes(b)), b);
    assert.deepEqual(parseBrushes("tokensB:6:2"), { tokensB: { kind: "range", lo: 2, hi: 6 } });
    assert.deepEqual(parseBrushes("tokensB:x:2;1bad:1:2;score:;=a;ok:1"), {});
    const state = { ...parseAnalysisState(new URLSearchParams("experiment=e1")), pc: b };
    assert.deepEqual(parseAnalysisState(serializeAnalysisState(state)).pc, b);
  });
});
