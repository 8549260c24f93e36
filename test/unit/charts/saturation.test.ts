// Figure 2's saturation readout: where a series stops improving, and whether the SFT
// discard rate kept rising after it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { saturationOf } from "../../../server/services/charts/saturation";

const series = (values: number[], discard: (number | null)[] = values.map(() => null)) => ({
  key: "ties",
  label: "TIES",
  points: values.map((value, i) => ({ tokensB: 2 * (i + 1), value, discardPct: discard[i] ?? null })),
});

describe("saturation readout", () => {
  it("should find the first checkpoint no later one beats by more than the tolerance", () => {
    const s = saturationOf(series([40, 45, 48, 48.3, 47.9, 48.2], [30, 34, 38, 41, 44, 47]));
    assert.deepEqual([s.tokensB, s.value, s.discardAt, s.discardLast, s.discardKeptRising], [6, 48, 38, 47, true]);
  });

  it("should report a series that still improves at its last checkpoint as not saturated", () => {
    assert.equal(saturationOf(series([40, 45, 48, 52])).tokensB, null);
    assert.equal(saturationOf(series([40, 45])).tokensB, null, "two points say nothing");
  });

  it("should say the discard rate did not keep rising, or that it is unknown", () => {
    assert.equal(saturationOf(series([50, 50.2, 49, 48], [40, 39, 38, 37])).discardKeptRising, false);
    assert.equal(saturationOf(series([50, 50.2, 49, 48])).discardKeptRising, null);
    // A drop after a peak: saturation at the peak.
    assert.equal(saturationOf(series([40, 52, 47, 45])).tokensB, 4);
  });
});
