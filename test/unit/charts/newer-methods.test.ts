// The analysis pages with the newer methods: sce analyses (it trims and elects) feed the
// sweep statistics and Figure 4 like TIES, at the density pair (select_topk, select_topk);
// analyses of nuslerp, multislerp, karcher, arcee_fusion and nearswap run through the job
// queue, are stored, stay out of the sweep figures and open in the heatmap without errors.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { analyze } from "../../../server/engine/merge";
import { parseRecipeYaml } from "../../../server/engine/recipe";
import { analysisHeatmap } from "../../../server/services/charts/heatmap";
import { sweepStats } from "../../../server/services/charts/sweep";
import { figure4Rows, indexSweep, lookup } from "../../../server/services/charts/sweep-select";
import { fig4View } from "../../../components/analysis/figure-data";
import { drainQueue, freshDataDir, setupExperiment, sweep, type ChartFixture } from "./helpers";

const env = freshDataDir("ms-charts-newer-");
after(() => env.cleanup());

let fx: ChartFixture;

const sceRecipe = (ct: string) =>
  ["merge_method: sce", "base_model: ./base", "models:", "  - model: ./sft", `  - model: ./${ct}`, "parameters:", "  select_topk: 0.5", ""].join("\n");

const OTHERS: Record<string, string> = {
  nuslerp: ["merge_method: nuslerp", "base_model: ./base", "models:", "  - model: ./sft", "    parameters: {weight: 0.5}", "  - model: ./ct-2B", "    parameters: {weight: 0.5}", ""].join("\n"),
  multislerp: ["merge_method: multislerp", "models:", "  - model: ./sft", "    parameters: {weight: 1}", "  - model: ./ct-2B", "    parameters: {weight: 2}", ""].join("\n"),
  karcher: ["merge_method: karcher", "base_model: ./base", "models:", "  - model: ./sft", "  - model: ./ct-2B", ""].join("\n"),
  arcee_fusion: ["merge_method: arcee_fusion", "base_model: ./base", "models:", "  - model: ./ct-2B", ""].join("\n"),
  nearswap: ["merge_method: nearswap", "base_model: ./base", "models:", "  - model: ./ct-2B", "parameters: {t: 0.001}", ""].join("\n"),
};

before(async () => {
  fx = await setupExperiment(env.dir, 2, "newer");
  const created = await sweep(fx, { type: "analyze", recipeYaml: sceRecipe("ct-2B"), methods: ["sce"] });
  assert.equal(created, 2);
  for (const yaml of Object.values(OTHERS)) await sweep(fx, { type: "analyze", recipeYaml: yaml, checkpoints: [fx.cts[0]!.path] });
  assert.equal(await drainQueue(), 2 + Object.keys(OTHERS).length, "every analysis job finishes");
});

describe("analysis of the newer methods", () => {
  it("should place sce analyses in the sweep at (select_topk, select_topk) with the engine's counts", async () => {
    const stats = await sweepStats(fx.experimentId);
    assert.deepEqual(stats.methods, ["sce"]);
    assert.deepEqual(stats.skipped, []);
    assert.equal(stats.points.length, 2);
    const index = indexSweep(stats);
    const sel = { sftDensity: 0.5, ctDensity: 0.5, slack: null };
    const rows = figure4Rows(index, sel);
    for (const [i, ct] of ["ct-2B", "ct-4B"].entries()) {
      const report = await analyze(parseRecipeYaml(sceRecipe(ct), { recipeDir: fx.family }));
      const p = lookup(index, "sce", fx.cts[i]!.id, sel)!;
      assert.equal(p.sft.nnzTrimmed, report.totals.nnz_trimmed[0]);
      assert.equal(p.sft.discarded, report.totals.discarded[0]);
      assert.equal(p.signConflicts, report.totals.sign_conflicts);
      assert.ok(report.totals.sign_conflicts > 0 && report.totals.discarded[0]! > 0, "the tiny family has conflicts");
      assert.equal(rows[i]!.sce, (100 * report.totals.discarded[0]!) / report.totals.nnz_trimmed[0]!);
      assert.equal(rows[i]!.ties, null);
    }
    const view = fig4View(index, sel, () => true);
    assert.deepEqual(view.categories, ["sce"]);
    assert.match(view.config.sce!.label, /SCE \(select_topk 0\.5\)/);
    const hm = await analysisHeatmap({ analysisId: rows[0]!.sceAnalysisId!, experimentId: fx.experimentId });
    assert.ok(hm.total.nnzTrimmed > 0 && hm.total.discarded > 0);
  });

  it("should store the other methods' analyses with their own statistics and open them in the heatmap", async () => {
    const client = await db();
    for (const method of Object.keys(OTHERS)) {
      const row = await client.analysis.findFirst({ where: { method } });
      assert.ok(row, `${method}: an Analysis row`);
      const totals = JSON.parse(row.totals) as { totals: { selected: number; numel: number } };
      if (method === "nearswap" || method === "arcee_fusion") {
        assert.ok(totals.totals.selected > 0 && totals.totals.selected < totals.totals.numel, `${method}: some but not all positions taken from the model`);
      }
      const hm = await analysisHeatmap({ analysisId: row.id, experimentId: fx.experimentId });
      assert.equal(hm.method, method);
    }
  });
});
