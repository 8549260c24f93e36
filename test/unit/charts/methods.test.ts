// Methods side by side (charts.methods): at one checkpoint and density pair, what each method does
// with the SFT task vector, from real analyze jobs of TIES, TIES-SV, DARE-TIES and breadcrumbs-TIES.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import type { StatsGroup } from "../../../server/engine/stats";
import { methodsSideBySide, type MethodParts } from "../../../server/services/charts/methods";
import { drainQueue, freshDataDir, setupExperiment, sweep, type ChartFixture } from "./helpers";

const env = freshDataDir("ms-charts-methods-");
after(() => env.cleanup());

let fx: ChartFixture;

before(async () => {
  fx = await setupExperiment(env.dir, 2, "methods");
  assert.equal(await sweep(fx, { type: "analyze", methods: ["ties", "ties_sv", "dare_ties", "breadcrumbs_ties"], densities: [[0.2], [1.0]] }), 8);
  assert.equal(await drainQueue(), 8);
});

const sumParts = (p: MethodParts) => p.kept + p.discarded + p.trimmed;

describe("methods side by side", () => {
  it("should split every SFT parameter into kept, discarded and trimmed for each method, equal to its stored analysis", async () => {
    const ckpt = fx.cts[1]!;
    const view = await methodsSideBySide({ experimentId: fx.experimentId });
    assert.equal(view.checkpoint?.modelId, ckpt.id, "the last checkpoint by default");
    assert.deepEqual(view.methods.map((m) => m.label), ["TIES", "TIES-SV", "DARE-TIES", "breadcrumbs-TIES"]);
    assert.deepEqual(view.missing, ["DELLA", "SCE"]);
    assert.deepEqual(view.pairs, [{ sftDensity: 0.2, ctDensity: 1, methods: ["ties", "ties_sv", "dare_ties", "breadcrumbs_ties"] }]);
    const client = await db();
    for (const m of view.methods) {
      const row = await client.analysis.findUniqueOrThrow({ where: { id: m.analysisId } });
      assert.equal(row.method, m.method);
      assert.ok(row.modelPaths.includes(ckpt.path), `${m.method} analysis of ${ckpt.path}`);
      const t = (JSON.parse(row.totals) as { totals: StatsGroup }).totals;
      assert.equal(m.total.numel, t.numel);
      assert.equal(m.total.nnzTrimmed, t.nnz_trimmed[0]);
      assert.equal(m.total.discarded, t.discarded[0]);
      assert.equal(sumParts(m.total), m.total.numel);
      assert.ok(Math.abs(m.total.keptPct! + m.total.discardedPct! + m.total.trimmedPct! - 100) < 1e-9);
      // Modules and layers partition the model: their parts add up to the total.
      for (const groups of [view.byModule, view.byLayer]) {
        const parts = groups.map((g) => g.byMethod[m.method]!);
        assert.equal(parts.length, groups.length, `${m.method}: every group`);
        for (const key of ["numel", "kept", "discarded", "trimmed"] as const) assert.equal(parts.reduce((a, p) => a + p[key], 0), m.total[key], `${m.method} ${key}`);
      }
    }
    const by = Object.fromEntries(view.methods.map((m) => [m.method, m.total]));
    // TIES-SV rescues some of what TIES discards (same trim); breadcrumbs also cuts the largest entries, so it keeps fewer.
    assert.equal(by.ties_sv!.nnzTrimmed, by.ties!.nnzTrimmed);
    assert.ok(by.ties_sv!.discarded < by.ties!.discarded, "the slack rescues");
    assert.equal(by.ties!.discarded - by.ties_sv!.discarded, by.ties_sv!.rescued);
    assert.ok(by.breadcrumbs_ties!.nnzTrimmed < by.ties!.nnzTrimmed);
    assert.ok(by.dare_ties!.nnzTrimmed > 0 && by.dare_ties!.nnzTrimmed < by.ties!.numel);
  });

  it("should answer another checkpoint, an uncovered density pair (no methods) and refuse a foreign checkpoint", async () => {
    const first = await methodsSideBySide({ experimentId: fx.experimentId, checkpointId: fx.cts[0]!.id });
    assert.equal(first.checkpoint?.modelId, fx.cts[0]!.id);
    assert.equal(first.methods.length, 4);
    const uncovered = await methodsSideBySide({ experimentId: fx.experimentId, sftDensity: 0.5, ctDensity: 1 });
    assert.deepEqual(uncovered.methods, []);
    assert.equal(uncovered.missing.length, 6);
    assert.deepEqual(uncovered.byModule, []);
    await assert.rejects(methodsSideBySide({ experimentId: fx.experimentId, checkpointId: fx.sft.id }), /not a CT checkpoint/);
  });
});
