// Task-vector geometry as stored by real analyze / analyze-series jobs: the Analysis row's totals
// JSON (totals, byLayer, byModule) and every TensorStat row carry the geometry, equal to the
// TypeScript reference computed from the checkpoints' safetensors (tolerances: see
// test/unit/engine-api/geometry-check.ts).
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import type { StatsGroup, StatsReport, TensorStatsEntry } from "../../../server/engine/stats";
import { parseAnalysisState, serializeAnalysisState } from "../../../components/analysis/analysis-state";
import { geometryView } from "../../../components/analysis/geometry-data";
import { geometrySeries } from "../../../server/services/charts/geometry";
import { assertReportGeometry, loadModel } from "../engine-api/geometry-check";
import { drainQueue, freshDataDir, setupExperiment, sweep, type ChartFixture } from "./helpers";

const env = freshDataDir("ms-charts-geometry-");
after(() => env.cleanup());

let fx: ChartFixture;

before(async () => {
  fx = await setupExperiment(env.dir, 2, "geometry");
  // shared list over 2 checkpoints -> one analyze-series job; ties_sv -> single analyze jobs
  assert.equal(await sweep(fx, { type: "analyze", methods: ["ties"], densities: [[0.2, 1.0], [0.2, 1.0]] }), 1);
  assert.equal(await sweep(fx, { type: "analyze", methods: ["ties_sv"], densities: [[0.2], [1.0]] }), 2);
  assert.equal(await drainQueue(), 3);
});

/** The stored rows of one analysis, read back as a report. */
async function storedReport(analysisId: string): Promise<{ report: StatsReport; paths: string[] }> {
  const a = await (await db()).analysis.findUniqueOrThrow({ where: { id: analysisId }, include: { tensors: true } });
  const totals = JSON.parse(a.totals) as { totals: StatsGroup; byLayer: StatsReport["byLayer"]; byModule: StatsReport["byModule"]; models: StatsReport["models"] };
  const tensors = a.tensors.map((t) => JSON.parse(t.stats) as TensorStatsEntry).sort((x, y) => (x.name < y.name ? -1 : 1));
  const report = { method: a.method, models: totals.models, tensors, totals: totals.totals, byLayer: totals.byLayer, byModule: totals.byModule } as StatsReport;
  return { report, paths: JSON.parse(a.modelPaths) as string[] };
}

describe("stored task-vector geometry", () => {
  it("should store every analysis's geometry per tensor and per layer, module and total, equal to the reference", async () => {
    const rows = await (await db()).analysis.findMany({ where: { experimentId: fx.experimentId }, orderBy: { createdAt: "asc" } });
    assert.equal(rows.length, 2 * 4 + 2);
    const base = loadModel(path.join(fx.family, "base"));
    const cache = new Map<string, Map<string, Float32Array>>();
    const model = (p: string) => cache.get(p) ?? cache.set(p, loadModel(p)).get(p)!;
    for (const row of rows) {
      const { report, paths } = await storedReport(row.id);
      assert.ok(report.totals.geometry, `${row.method} ${row.densities}: totals without geometry`);
      assert.equal(report.tensors.length, 21); // 2 layers x 9, embed_tokens, final norm, lm_head
      assertReportGeometry(report, base, paths.map(model), { dtype: "BF16", mode: "native" });
    }
  });

  it("should keep the same geometry for ties and ties_sv at the same densities (the trims are the same)", async () => {
    const rows = await (await db()).analysis.findMany({ where: { experimentId: fx.experimentId, densities: JSON.stringify([0.2, 1]) } });
    const byCt = new Map<string, unknown[]>();
    for (const row of rows) {
      const { report, paths } = await storedReport(row.id);
      byCt.set(paths[1]!, [...(byCt.get(paths[1]!) ?? []), report.totals.geometry]);
    }
    assert.equal(byCt.size, 2);
    for (const [ct, gs] of byCt) {
      assert.equal(gs.length, 2, ct);
      assert.deepEqual(gs[0], gs[1], ct);
    }
  });

  it("should shape the geometry along the CT series per checkpoint, module and layer (charts.geometry)", async () => {
    const series = await geometrySeries(fx.experimentId);
    assert.deepEqual(series.checkpoints.map((c) => c.label), ["2B", "4B"]);
    assert.equal(series.withoutGeometry, 0);
    for (const c of series.checkpoints) {
      assert.equal(c.analyses, 5, `${c.label}: 4 sweep points + 1 ties_sv analysis`);
      const rows = await (await db()).analysis.findMany({ where: { experimentId: fx.experimentId, method: "ties", densities: JSON.stringify([0.2, 1]), modelPaths: { contains: c.name.replace(/^geometry-/, "") } } });
      assert.equal(rows.length, 1);
      const { report } = await storedReport(rows[0]!.id);
      const g = report.totals.geometry!;
      assert.deepEqual(c.total && [c.total.sftNorm, c.total.ctNorm, c.total.cosine, c.total.signAgreement], [g.tv_norm[0], g.tv_norm[1], g.cosine, g.sign_agreement]);
      assert.ok(g.cosine! > -1 && g.cosine! < 1);
      assert.deepEqual(c.total!.jaccard.map((j) => [j.sftDensity, j.ctDensity]), [[0.2, 0.2], [0.2, 1], [1, 0.2], [1, 1]]);
      assert.equal(c.total!.jaccard.find((j) => j.sftDensity === 0.2 && j.ctDensity === 1)!.jaccard, g.jaccard);
      assert.equal(c.total!.jaccard.at(-1)!.jaccard, 1, "density 1 keeps every position of both");
      assert.deepEqual(c.byModule.map((m) => m.module), report.byModule.map((m) => m.module));
      assert.deepEqual(c.byLayer.map((l) => l.layer), [0, 1, null]);
      const down = report.byModule.find((m) => m.module === "down")!.geometry!;
      assert.equal(c.byModule.find((m) => m.module === "down")!.cosine, down.cosine);
    }
  });

  it("should lay the series out as small multiples: the whole model first, then each module or layer, with the chosen pair statistic", async () => {
    const series = await geometrySeries(fx.experimentId);
    const all = () => true;
    const byModule = geometryView(series, "module", "cosine", null, all);
    assert.equal(byModule.covered, 2);
    assert.deepEqual(byModule.panels.map((p) => p.label), ["whole model", ...series.checkpoints[0]!.byModule.map((m) => m.module)]);
    for (const panel of byModule.panels) assert.deepEqual(panel.rows.map((r) => r.tokensB), [2, 4], panel.label);
    const down = byModule.panels.find((p) => p.label === "down")!;
    assert.deepEqual(down.rows.map((r) => [r.ctNorm, r.sftNorm, r.metric]), series.checkpoints.map((c) => {
      const m = c.byModule.find((x) => x.module === "down")!;
      return [m.ctNorm, m.sftNorm, m.cosine];
    }));
    // The table: one row per panel and checkpoint, the norm ratio derived from the same values.
    assert.equal(byModule.table.rows.length, byModule.panels.length * 2);
    const t = byModule.table.rows.find((r) => r.group === "down" && r.checkpoint === "4B")!;
    assert.equal(t.normRatio, (t.ctNorm as number) / (t.sftNorm as number));

    const byLayer = geometryView(series, "layer", "signAgreement", null, all);
    assert.deepEqual(byLayer.panels.map((p) => p.label), ["whole model", "layer 0", "layer 1", "outside the layers"]);
    assert.equal(byLayer.panels[1]!.rows[0]!.metric, series.checkpoints[0]!.byLayer[0]!.signAgreement);

    // Jaccard follows the selected density pair; without a pair it is not drawn.
    const j = geometryView(series, "total", "jaccard", { sftDensity: 0.2, ctDensity: 1 }, all);
    assert.deepEqual(j.panels.map((p) => p.label), ["whole model"]);
    assert.deepEqual(j.panels[0]!.rows.map((r) => r.metric), series.checkpoints.map((c) => c.total!.jaccard.find((x) => x.sftDensity === 0.2 && x.ctDensity === 1)!.jaccard));
    assert.deepEqual(geometryView(series, "total", "jaccard", { sftDensity: 1, ctDensity: 1 }, all).panels[0]!.rows.map((r) => r.metric), [1, 1]);
    assert.deepEqual(geometryView(series, "total", "jaccard", null, all).panels[0]!.rows.map((r) => r.metric), [null, null]);

    // The checkpoint filter drops a checkpoint from every panel.
    const only4 = geometryView(series, "module", "cosine", null, (id) => id === series.checkpoints[1]!.modelId);
    assert.ok(only4.panels.every((p) => p.rows.length === 1 && p.rows[0]!.tokensB === 4));
  });

  it("should keep the geometry view in the URL and fall back to the defaults on unknown values", () => {
    const state = { ...parseAnalysisState(new URLSearchParams("experiment=e1")), geo: "layer" as const, geom: "jaccard" as const, tables: ["geometry" as const] };
    const qs = serializeAnalysisState(state);
    assert.equal(qs.get("geo"), "layer");
    assert.equal(qs.get("geom"), "jaccard");
    assert.deepEqual(parseAnalysisState(qs), state);
    const bad = parseAnalysisState(new URLSearchParams("geo=tensor&geom=norm"));
    assert.equal(bad.geo, "module");
    assert.equal(bad.geom, "cosine");
    assert.equal(serializeAnalysisState(bad).has("geo"), false);
  });
});
