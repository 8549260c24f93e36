// TIES-SV's lost-election margins as stored by real analyze jobs (Analysis.totals JSON) and as
// the compare query shapes them (services/charts/margins.ts): the stored histogram sums to the
// lost elections and the reserve; the chart's bins are the stored ones from the first to the
// last non-empty bin, with the cut's bin; TIES rows and rows stored before margins give none.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { marginBinOf, marginBinRange, type MarginHistogram, type StatsGroup } from "../../../server/engine/stats";
import { compareTiesSv } from "../../../server/services/charts/compare";
import { marginChart } from "../../../server/services/charts/margins";
import { drainQueue, freshDataDir, setupExperiment, sweep, type ChartFixture } from "./helpers";

const env = freshDataDir("ms-charts-margins-");
after(() => env.cleanup());
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

let fx: ChartFixture;

before(async () => {
  fx = await setupExperiment(env.dir, 2, "margins");
  assert.equal(await sweep(fx, { type: "analyze", methods: ["ties"], densities: [[0.2, 1.0], [0.2, 1.0]] }), 1); // one analyze-series job for both checkpoints
  assert.equal(await sweep(fx, { type: "analyze", methods: ["ties_sv"], densities: [[0.2], [1.0]] }), 2);
  assert.equal(await drainQueue(), 3);
});

async function stored(method: string) {
  const rows = await (await db()).analysis.findMany({ where: { experimentId: fx.experimentId, method }, orderBy: { createdAt: "asc" } });
  return rows.map((r) => ({ row: r, totals: JSON.parse(r.totals) as { totals: StatsGroup; margins?: MarginHistogram | null; slack_budget: number | null } }));
}

describe("stored lost-election margins", () => {
  it("should store every TIES-SV analysis's histogram, summing to its lost elections and its reserve", async () => {
    const sv = await stored("ties_sv");
    assert.equal(sv.length, 2);
    for (const { totals } of sv) {
      const m = totals.margins!;
      assert.ok(m, "ties_sv row has margins");
      assert.ok(totals.totals.sv_candidates > 0);
      assert.equal(sum(m.candidates), totals.totals.sv_candidates);
      assert.equal(sum(m.reserved), totals.totals.sv_reserved);
      assert.equal(m.n_reserved, totals.slack_budget);
      assert.notEqual(m.cut, null);
    }
    for (const { totals } of await stored("ties")) assert.equal(totals.margins ?? null, null, "TIES sweep points carry none");
  });

  it("should shape the compared TIES-SV analysis's margins for the chart (charts.compare)", async () => {
    for (const ct of fx.cts) {
      const c = await compareTiesSv({ experimentId: fx.experimentId, checkpointId: ct.id, sftDensity: 0.2, ctDensity: 1, split: "test" });
      const m = c.margins!;
      assert.ok(m);
      assert.equal(m.analysisId, c.tiesSv!.analysisId);
      const row = (await stored("ties_sv")).find((s) => s.row.id === m.analysisId)!;
      const h = row.totals.margins!;
      assert.equal(m.nCandidates, c.tiesSv!.svCandidates);
      assert.equal(m.nReserved, c.tiesSv!.sft.rescued);
      // TIES-SV's lost elections are the SFT entries TIES discards at the same densities (weights 1)
      assert.equal(m.nCandidates, c.ties!.sft.discarded);
      assert.equal(sum(m.bins.map((b) => b.candidates)), m.nCandidates, "no non-empty bin is cut off");
      assert.equal(sum(m.bins.map((b) => b.reserved)), m.nReserved);
      assert.ok(m.bins[0]!.candidates > 0 && m.bins.at(-1)!.candidates > 0);
      for (let i = 0; i < m.bins.length; i++) {
        const b = m.bins[i]!;
        if (i > 0 && m.bins[i - 1]!.bin > 0) assert.equal(b.bin, m.bins[i - 1]!.bin + 1, "consecutive positive bins");
        assert.equal(b.candidates, h.candidates[b.bin]);
        assert.equal(b.reserved, h.reserved[b.bin]);
        assert.equal(b.notReserved, b.candidates - b.reserved);
        assert.equal(b.lo, marginBinRange(h.edges, b.bin).lo);
      }
      assert.equal(m.cut, h.cut);
      assert.equal(m.cutBin, marginBinOf(h.edges, h.cut!));
      assert.ok(m.bins.some((b) => b.bin === m.cutBin), "the cut lies in a drawn bin");
    }
  });

  it("should give no chart for a row stored before margins existed, and bin labels by their edges", () => {
    assert.equal(marginChart(undefined, { analysisId: "a", slack: 0.04, slackScope: "model", slackBudget: 3 }), null);
    const edges = Array.from({ length: 61 }, (_, e) => Math.fround(10 ** ((e - 54) / 6)));
    const candidates = Array(63).fill(0);
    const reserved = Array(63).fill(0);
    candidates[0] = 2; reserved[0] = 2; // ties at zero: reserved first
    candidates[2 + 54] = 5; reserved[2 + 54] = 1; // [1, 1.47)
    candidates[62] = 1;
    const c = marginChart({ edges, candidates, reserved, n_candidates: 8, n_reserved: 3, cut: 1, at_cut: 2, taken_at_cut: 1 }, { analysisId: "a", slack: 0.04, slackScope: "model", slackBudget: 3 })!;
    // the zero bin, then the positive bins from the first to the last non-empty one
    assert.deepEqual(c.bins.map((b) => b.bin), [0, ...Array.from({ length: 7 }, (_, i) => 56 + i)]);
    assert.deepEqual(c.bins.map((b) => b.candidates), [2, 5, 0, 0, 0, 0, 0, 1]);
    assert.equal(c.bins[0]!.label, "0");
    assert.equal(c.bins[1]!.label, "[1.00e+0, 1.47e+0)");
    assert.equal(c.bins.at(-1)!.label, "≥ 1.00e+1");
    assert.equal(c.bins.at(-1)!.hi, null);
    assert.equal(c.cutBin, 56);
    candidates[1] = 4; // below 1e-9: drawn from there on
    assert.equal(marginChart({ edges, candidates, reserved, n_candidates: 12, n_reserved: 3, cut: 1, at_cut: 2, taken_at_cut: 1 }, { analysisId: "a", slack: 0.04, slackScope: "model", slackBudget: 3 })!.bins[1]!.label, "< 1.00e-9");
    const none = marginChart({ edges, candidates: Array(63).fill(0), reserved: Array(63).fill(0), n_candidates: 0, n_reserved: 0, cut: null, at_cut: null, taken_at_cut: null }, { analysisId: "a", slack: 0.1, slackScope: "tensor", slackBudget: null })!;
    assert.deepEqual(none.bins, []);
    assert.equal(none.cutBin, null);
  });
});
