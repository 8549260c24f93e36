// A merge's engine pass also computes its recipe's statistics: a merge sweep alone
// fills Figures 3–4 and the TIES vs TIES-SV comparison (no second, analysis sweep),
// with the same numbers an analysis of the same recipe gives.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { analyze } from "../../../server/engine/merge";
import { parseRecipeYaml } from "../../../server/engine/recipe";
import { compareTiesSv } from "../../../server/services/charts/compare";
import { sweepStats } from "../../../server/services/charts/sweep";
import type { SweepStats } from "../../../server/services/charts/schemas";
import { drainQueue, freshDataDir, setupExperiment, sweep, tiesRecipe, type ChartFixture } from "./helpers";

const env = freshDataDir("ms-charts-merge-stats-");
after(() => env.cleanup());

let fx: ChartFixture;
let stats: SweepStats;

before(async () => {
  fx = await setupExperiment(env.dir, 2, "mergestats");
  const created = await sweep(fx, { type: "merge", methods: ["ties", "ties_sv"], densities: [[0.2], [1.0]] });
  assert.equal(created, 2 * 2);
  assert.equal(await drainQueue(), 4);
  stats = await sweepStats(fx.experimentId);
});

describe("merge statistics", () => {
  it("should place every merge of a merge sweep in Figures 3–4 without an analysis sweep", () => {
    assert.deepEqual(stats.skipped, []);
    assert.equal(stats.points.length, 4);
    assert.deepEqual(stats.methods, ["ties", "ties_sv"]);
  });

  it("should store the numbers an analysis of the same recipe computes", async () => {
    const ct = fx.cts[1]!;
    const point = stats.points.find((p) => p.checkpointId === ct.id && p.method === "ties_sv")!;
    const report = await analyze(parseRecipeYaml(tiesRecipe(fx.family, "ct-4B", "ties_sv", 0.2), { recipeDir: fx.family }));
    assert.equal(point.signConflicts, report.totals.sign_conflicts);
    assert.equal(point.sft.rescued, report.totals.rescued[0]);
    assert.equal(point.svReserved, report.totals.sv_reserved);
  });

  it("should fill the TIES vs TIES-SV comparison from the merges", async () => {
    const c = await compareTiesSv({ experimentId: fx.experimentId, checkpointId: fx.cts[0]!.id, sftDensity: 0.2, ctDensity: 1, split: "test" });
    assert.ok(c.ties, "TIES statistics from the ties merge");
    assert.ok(c.tiesSv, "TIES-SV statistics from the ties_sv merge");
    assert.ok(c.tiesSv.sft.rescued >= 0);
  });
});
