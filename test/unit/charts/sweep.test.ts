// Figures 3–4, the density explorer and the heatmap, shaped from Analysis rows
// that real analyze jobs wrote, checked against the engine's own statistics:
// the stored report, `analyze()` run again in this process, and
// `mergescope analyze --json`.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { analyze } from "../../../server/engine/merge";
import { parseRecipeYaml } from "../../../server/engine/recipe";
import type { StatsReport } from "../../../server/engine/stats";
import { compareTiesSv } from "../../../server/services/charts/compare";
import { analysisHeatmap, heatmapCells } from "../../../server/services/charts/heatmap";
import type { SweepStats } from "../../../server/services/charts/schemas";
import { sweepStats } from "../../../server/services/charts/sweep";
import { coverage, figure3Rows, figure4Rows, indexSweep, lookup, snapSelection } from "../../../server/services/charts/sweep-select";
import { createExperiment } from "../../../server/services/experiments/store";
import { updateModel } from "../../../server/services/models/registry";
import { drainQueue, freshDataDir, setupExperiment, sweep, tiesRecipe, type ChartFixture } from "./helpers";

const env = freshDataDir("ms-charts-sweep-");
after(() => env.cleanup());

const SFT_GRID = [0.2, 0.5];
const CT_GRID = [0.6, 1.0];
let fx: ChartFixture;
let stats: SweepStats;

/** The engine's report for one point, computed again outside the job system. */
async function engineReport(ct: string, method: "ties" | "ties_sv", sft: number, ctDensity: number): Promise<StatsReport> {
  const yaml = tiesRecipe(fx.family, ct, method, sft).replace(/density: 1\.0/, `density: ${ctDensity}`);
  return analyze(parseRecipeYaml(yaml, { recipeDir: fx.family }));
}

const pctOf = (num: number, den: number) => (100 * num) / den;

before(async () => {
  fx = await setupExperiment(env.dir, 3);
  const created = await sweep(fx, { type: "analyze", methods: ["ties", "ties_sv"], densities: [SFT_GRID, CT_GRID] });
  assert.equal(created, 3 * 2 * 4);
  assert.equal(await drainQueue(), 24);
  stats = await sweepStats(fx.experimentId);
});

describe("sweep statistics (Figures 3–4)", () => {
  it("should place every analysis of the sweep at its checkpoint and density pair", () => {
    assert.equal(stats.points.length, 24);
    assert.deepEqual(stats.skipped, []);
    assert.deepEqual(stats.grid.sft, SFT_GRID);
    assert.deepEqual(stats.grid.ct, CT_GRID);
    assert.deepEqual(stats.grid.slack, [0.04]);
    assert.deepEqual(stats.methods, ["ties", "ties_sv"]);
    assert.deepEqual(
      stats.checkpoints.map((c) => [c.label, c.tokensB]),
      [
        ["2B", 2],
        ["4B", 4],
        ["6B", 6],
      ],
    );
    assert.equal(stats.pendingJobs, 0);
    for (const p of stats.points) {
      assert.equal(p.sftIndex, 0);
      assert.equal(p.ctIndex, 1);
    }
  });

  it("should equal the stored stats report of every Analysis row", async () => {
    const client = await db();
    const index = indexSweep(stats);
    for (const sft of SFT_GRID)
      for (const ct of CT_GRID) {
        const sel = { sftDensity: sft, ctDensity: ct, slack: 0.04 };
        const f3 = figure3Rows(index, sel);
        const f4 = figure4Rows(index, sel);
        assert.equal(f3.length, 3);
        for (const [i, row] of f3.entries()) {
          const a = await client.analysis.findUniqueOrThrow({ where: { id: row.analysisId! } });
          assert.equal(a.method, "ties");
          assert.deepEqual(JSON.parse(a.densities), [sft, ct]);
          const t = JSON.parse(a.totals).totals as StatsReport["totals"];
          assert.equal(row.electsSft, pctOf(t.conflicts_won[0]!, t.nnz_trimmed[0]!));
          assert.equal(row.electsCt, pctOf(t.conflicts_won[1]!, t.nnz_trimmed[0]!));
          assert.equal(row.sftNnzTrimmed, t.nnz_trimmed[0]);
          const r4 = f4[i]!;
          assert.equal(r4.ties, pctOf(t.discarded[0]!, t.nnz_trimmed[0]!));
          const sv = await client.analysis.findUniqueOrThrow({ where: { id: r4.svAnalysisId! } });
          assert.equal(sv.method, "ties_sv");
          const st = JSON.parse(sv.totals).totals as StatsReport["totals"];
          assert.equal(r4.tiesSv, pctOf(st.discarded[0]!, st.nnz_trimmed[0]!));
          assert.equal(r4.svRescued, st.rescued[0]);
        }
      }
  });

  it("should equal analyze() run again on the same checkpoints (paper densities 0.2 / 1.0)", async () => {
    const index = indexSweep(stats);
    const sel = snapSelection(stats, {});
    assert.deepEqual(sel, { sftDensity: 0.2, ctDensity: 1, slack: 0.04 });
    const f3 = figure3Rows(index, sel);
    const f4 = figure4Rows(index, sel);
    for (const [i, ct] of ["ct-2B", "ct-4B", "ct-6B"].entries()) {
      const ties = await engineReport(ct, "ties", 0.2, 1.0);
      const sv = await engineReport(ct, "ties_sv", 0.2, 1.0);
      const t = ties.totals;
      // In a two-model merge the SFT model's conflicts split into won and lost (= elects CT sign).
      assert.equal(f3[i]!.sftConflictsWon, t.conflicts_won[0]);
      assert.equal(f3[i]!.ctConflictsWon, t.conflicts_won[1]);
      assert.equal(f3[i]!.electsSft, pctOf(t.conflicts_won[0]!, t.nnz_trimmed[0]!));
      assert.equal(f3[i]!.electsCt, pctOf(t.conflicts_won[1]!, t.nnz_trimmed[0]!));
      assert.equal(f4[i]!.tiesDiscarded, t.discarded[0]);
      assert.equal(f4[i]!.ties, pctOf(t.discarded[0]!, t.nnz_trimmed[0]!));
      assert.equal(f4[i]!.svDiscarded, sv.totals.discarded[0]);
      assert.equal(f4[i]!.svRescued, sv.totals.rescued[0]);
      assert.equal(f4[i]!.tiesSv, pctOf(sv.totals.discarded[0]!, sv.totals.nnz_trimmed[0]!));
      // TIES-SV rescues some of what TIES discards, never more.
      assert.ok(f4[i]!.svRescued! > 0);
      assert.equal(f4[i]!.svDiscarded! + f4[i]!.svRescued!, f4[i]!.tiesDiscarded);
    }
  });

  it("should equal `mergescope analyze --json`", () => {
    const file = path.join(fx.family, "sv-6B.yml");
    writeFileSync(file, tiesRecipe(fx.family, "ct-6B", "ties_sv", 0.5));
    const out = execFileSync(process.execPath, [path.resolve("bin/mergescope.mjs"), "analyze", file, "--json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const report = JSON.parse(out) as StatsReport;
    const row = figure4Rows(indexSweep(stats), { sftDensity: 0.5, ctDensity: 1, slack: 0.04 })[2]!;
    assert.equal(row.label, "6B");
    assert.equal(row.svDiscarded, report.totals.discarded[0]);
    assert.equal(row.svNnzTrimmed, report.totals.nnz_trimmed[0]);
    assert.equal(row.tiesSv, pctOf(report.totals.discarded[0]!, report.totals.nnz_trimmed[0]!));
  });
});

describe("density explorer", () => {
  it("should pick another analysis for every density pair from the loaded statistics", () => {
    const index = indexSweep(stats);
    const seen = new Set<string>();
    for (const sft of SFT_GRID)
      for (const ct of CT_GRID) {
        const rows = figure3Rows(index, { sftDensity: sft, ctDensity: ct, slack: null });
        for (const r of rows) {
          assert.ok(r.analysisId);
          seen.add(r.analysisId);
        }
        assert.deepEqual(coverage(index, "ties", { sftDensity: sft, ctDensity: ct, slack: null }), { filled: 3, total: 3 });
      }
    assert.equal(seen.size, 12);
  });

  it("should snap a requested pair to the nearest grid stop and leave missing points empty", () => {
    assert.deepEqual(snapSelection(stats, { sft: 0.45, ct: 0.7, slack: 0.1 }), { sftDensity: 0.5, ctDensity: 0.6, slack: 0.04 });
    const index = indexSweep(stats);
    assert.equal(lookup(index, "ties", stats.checkpoints[0]!.modelId, { sftDensity: 0.3, ctDensity: 1, slack: null }), undefined);
    const rows = figure4Rows(index, { sftDensity: 0.3, ctDensity: 1, slack: null });
    assert.deepEqual(rows.map((r) => r.ties), [null, null, null]);
  });

  it("should give other numbers for another density pair", () => {
    const index = indexSweep(stats);
    const a = figure4Rows(index, { sftDensity: 0.2, ctDensity: 1, slack: null }).map((r) => r.ties);
    const b = figure4Rows(index, { sftDensity: 0.5, ctDensity: 1, slack: null }).map((r) => r.ties);
    assert.notDeepEqual(a, b);
  });
});

describe("layer × module heatmap", () => {
  it("should group the TensorStat rows by layer and module like the engine's report", async () => {
    const index = indexSweep(stats);
    const ckpt = stats.checkpoints[2]!;
    const p = lookup(index, "ties", ckpt.modelId, { sftDensity: 0.2, ctDensity: 1, slack: null })!;
    const hm = await analysisHeatmap({ analysisId: p.analysisId, experimentId: fx.experimentId });
    const report = await engineReport("ct-6B", "ties", 0.2, 1.0);
    assert.deepEqual(hm.layers, [0, 1, null]);
    assert.equal(hm.sftIndex, 0);
    const expected = new Map<string, { nnz: number; disc: number }>();
    for (const t of report.tensors) {
      const k = `${t.layer}|${t.module}`;
      const e = expected.get(k) ?? { nnz: 0, disc: 0 };
      e.nnz += t.nnz_trimmed[0]!;
      e.disc += t.discarded[0]!;
      expected.set(k, e);
    }
    assert.equal(hm.cells.length, expected.size);
    for (const c of hm.cells) {
      const e = expected.get(`${c.layer}|${c.module}`)!;
      assert.equal(c.nnzTrimmed, e.nnz);
      assert.equal(c.discarded, e.disc);
      assert.equal(c.pct, e.nnz === 0 ? null : (100 * e.disc) / e.nnz);
    }
    assert.equal(hm.total.discarded, report.totals.discarded[0]);
    assert.equal(hm.total.nnzTrimmed, report.totals.nnz_trimmed[0]);
    // byLayer of the report is the row sums of the heatmap
    for (const g of report.byLayer) {
      const row = hm.cells.filter((c) => c.layer === g.layer);
      assert.equal(row.reduce((s, c) => s + c.discarded, 0), g.discarded[0]);
    }
  });

  it("should skip unreadable tensor statistics instead of failing", () => {
    const r = heatmapCells([{ layer: 0, module: "q", numel: 4, stats: "{" }, { layer: 0, module: "q", numel: 4, stats: JSON.stringify({ nnz_trimmed: [4, 4], discarded: [1, 0] }) }], 0);
    assert.equal(r.cells.length, 1);
    assert.equal(r.cells[0]!.pct, 25);
  });
});

describe("TIES vs TIES-SV comparison", () => {
  it("should report the parameters rescued as the engine counts them, in total, per layer and per module", async () => {
    const ckpt = stats.checkpoints[2]!;
    const c = await compareTiesSv({ experimentId: fx.experimentId, checkpointId: ckpt.modelId, sftDensity: 0.2, ctDensity: 1, split: "test" });
    const sv = await engineReport("ct-6B", "ties_sv", 0.2, 1.0);
    const ties = await engineReport("ct-6B", "ties", 0.2, 1.0);
    assert.equal(c.slack, 0.04);
    assert.deepEqual(c.slackOptions, [0.04]);
    assert.equal(c.tiesSv!.sft.rescued, sv.totals.rescued[0]);
    assert.equal(c.tiesSv!.svReserved, sv.totals.sv_reserved);
    assert.equal(c.ties!.sft.discarded, ties.totals.discarded[0]);
    assert.equal(c.ties!.discardedPct, pctOf(ties.totals.discarded[0]!, ties.totals.nnz_trimmed[0]!));
    assert.equal(c.tiesSv!.discardedPct, pctOf(sv.totals.discarded[0]!, sv.totals.nnz_trimmed[0]!));
    assert.equal(c.byLayer.reduce((s, g) => s + (g.rescued ?? 0), 0), sv.totals.rescued[0]);
    assert.equal(c.byModule.reduce((s, g) => s + (g.rescued ?? 0), 0), sv.totals.rescued[0]);
    for (const g of sv.byModule) assert.equal(c.byModule.find((x) => x.key === g.module)!.rescued, g.rescued[0]);
    assert.equal(c.recipes.ties[0]!.kind, "analyze");
    assert.match(c.recipes.tiesSv[0]!.yaml, /merge_method: ties_sv/);
    assert.match(c.recipes.tiesSv[0]!.yaml, /favored: true/);
    assert.deepEqual(c.scores, []);
  });
});

describe("analyses shared between experiments", () => {
  it("should show the same statistics in another experiment with the same base, SFT and checkpoints", async () => {
    // The analyze jobs are idempotent: the second experiment's sweep returns the first one's jobs.
    const e2 = await createExperiment({ name: "charts again", language: "tel", baseModelId: fx.base.id, sftModelId: fx.sft.id, ctModelIds: fx.cts.slice(1).map((c) => c.id) });
    const other = await sweepStats(e2.id);
    assert.equal(other.checkpoints.length, 2);
    assert.equal(other.points.length, 16);
    const mine = new Map(stats.points.map((p) => [p.analysisId, p]));
    for (const p of other.points) assert.deepEqual(p, mine.get(p.analysisId));
  });
});

describe("analyses of a moved checkpoint", () => {
  it("should keep a checkpoint's points when its folder moves and the model is pointed at the new place", async () => {
    const moved = fx.cts[2]!;
    const client = await db();
    const recorded = await client.analysis.findMany({ where: { experimentId: fx.experimentId }, select: { inputModelIds: true } });
    assert.ok(recorded.every((a) => a.inputModelIds?.includes(moved.id) || a.inputModelIds?.includes(fx.cts[0]!.id) || a.inputModelIds?.includes(fx.cts[1]!.id)), "each analysis recorded its models' ids");
    const to = path.join(fx.family, "moved-ct-6B");
    renameSync(moved.path, to);
    // Before the model is told, the path no longer exists — but the id still matches.
    const beforeUpdate = await sweepStats(fx.experimentId);
    assert.equal(beforeUpdate.points.length, 24, JSON.stringify(beforeUpdate.skipped));
    await assert.rejects(updateModel({ id: moved.id, path: path.join(fx.family, "nowhere") }), /nowhere/);
    const updated = await updateModel({ id: moved.id, path: to });
    assert.equal(updated.path, to);
    const after = await sweepStats(fx.experimentId);
    assert.equal(after.points.length, 24);
    assert.deepEqual(
      after.points.filter((p) => p.checkpointId === moved.id).length,
      stats.points.filter((p) => p.checkpointId === moved.id).length,
    );
  });
});
