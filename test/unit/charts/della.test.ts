// DELLA analyses feed the sweep statistics and Figure 4 like TIES: DELLA trims each model
// (at random, keep probabilities by magnitude rank) and elects signs, so its discarded share
// of the SFT task vector is a point at the recipe's density pair.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fig4View } from "../../../components/analysis/figure-data";
import { analyze } from "../../../server/engine/merge";
import { parseRecipeYaml } from "../../../server/engine/recipe";
import { analysisHeatmap } from "../../../server/services/charts/heatmap";
import { sweepStats } from "../../../server/services/charts/sweep";
import { figure4Rows, indexSweep, lookup } from "../../../server/services/charts/sweep-select";
import { drainQueue, freshDataDir, setupExperiment, sweep, type ChartFixture } from "./helpers";

const env = freshDataDir("ms-charts-della-");
after(() => env.cleanup());

let fx: ChartFixture;

const dellaRecipe = (ct: string) =>
  [
    "merge_method: della",
    "base_model: ./base",
    "models:",
    "  - model: ./sft",
    "    parameters: {weight: 1, density: 0.5, epsilon: 0.1}",
    `  - model: ./${ct}`,
    "    parameters: {weight: 1, density: 0.5, epsilon: 0.1}",
    "parameters: {seed: 7}",
    "",
  ].join("\n");

before(async () => {
  fx = await setupExperiment(env.dir, 2, "della");
  const created = await sweep(fx, { type: "analyze", recipeYaml: dellaRecipe("ct-2B"), methods: ["della"] });
  assert.equal(created, 2);
  assert.equal(await drainQueue(), 2, "every analysis job finishes");
});

describe("DELLA in the sweep figures", () => {
  it("should place della analyses at their densities with the engine's counts", async () => {
    const stats = await sweepStats(fx.experimentId);
    assert.deepEqual(stats.methods, ["della"]);
    assert.deepEqual(stats.skipped, []);
    assert.equal(stats.points.length, 2);
    const index = indexSweep(stats);
    const sel = { sftDensity: 0.5, ctDensity: 0.5, slack: null };
    const rows = figure4Rows(index, sel);
    for (const [i, ct] of ["ct-2B", "ct-4B"].entries()) {
      // the same seed gives the same keep masks: the stored point is this analysis
      const report = await analyze(parseRecipeYaml(dellaRecipe(ct), { recipeDir: fx.family }));
      const p = lookup(index, "della", fx.cts[i]!.id, sel)!;
      assert.equal(p.sft.nnzTrimmed, report.totals.nnz_trimmed[0]);
      assert.equal(p.sft.discarded, report.totals.discarded[0]);
      assert.ok(report.totals.discarded[0]! > 0, "the tiny family has lost elections");
      assert.equal(rows[i]!.della, (100 * report.totals.discarded[0]!) / report.totals.nnz_trimmed[0]!);
      assert.equal(rows[i]!.ties, null);
    }
    const view = fig4View(index, sel, () => true);
    assert.deepEqual(view.categories, ["della"]);
    assert.match(view.config.della!.label, /^DELLA/);
    const hm = await analysisHeatmap({ analysisId: rows[0]!.dellaAnalysisId!, experimentId: fx.experimentId });
    assert.ok(hm.total.nnzTrimmed > 0 && hm.total.discarded > 0);
  });
});
