// Task-vector geometry as stored by real analyze / analyze-sweep jobs: the Analysis row's totals
// JSON (totals, byLayer, byModule) and every TensorStat row carry the geometry, equal to the
// TypeScript reference computed from the checkpoints' safetensors (tolerances: see
// test/unit/engine-api/geometry-check.ts).
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import type { StatsGroup, StatsReport, TensorStatsEntry } from "../../../server/engine/stats";
import { assertReportGeometry, loadModel } from "../engine-api/geometry-check";
import { drainQueue, freshDataDir, setupExperiment, sweep, type ChartFixture } from "./helpers";

const env = freshDataDir("ms-charts-geometry-");
after(() => env.cleanup());

let fx: ChartFixture;

before(async () => {
  fx = await setupExperiment(env.dir, 2, "geometry");
  // shared list -> one analyze-sweep job per checkpoint; ties_sv -> single analyze jobs
  assert.equal(await sweep(fx, { type: "analyze", methods: ["ties"], densities: [[0.2, 1.0], [0.2, 1.0]] }), 2);
  assert.equal(await sweep(fx, { type: "analyze", methods: ["ties_sv"], densities: [[0.2], [1.0]] }), 2);
  assert.equal(await drainQueue(), 4);
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
});
