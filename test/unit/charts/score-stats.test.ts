// Scores against merge statistics: each merge's x is its own stored sign election, y its
// score; the fitted line and r against a textbook reference.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { experimentContext } from "../../../server/services/charts/context";
import { linearFit, scoreVsStatistic } from "../../../server/services/charts/score-stats";
import { mergeOutputs } from "../../../server/services/charts/scores";
import { drainQueue, freshDataDir, setupExperiment, sweep, type ChartFixture } from "./helpers";

const env = freshDataDir("ms-charts-score-stats-");
after(() => env.cleanup());

/** Reference: Pearson's r as cov / (sd·sd), and the slope through the means, computed independently. */
function reference(xy: { x: number; y: number }[]) {
  const n = xy.length;
  const mean = (f: (p: { x: number; y: number }) => number) => xy.map(f).reduce((a, b) => a + b, 0) / n;
  const mx = mean((p) => p.x);
  const my = mean((p) => p.y);
  const cov = mean((p) => (p.x - mx) * (p.y - my));
  const sx = Math.sqrt(mean((p) => (p.x - mx) ** 2));
  const sy = Math.sqrt(mean((p) => (p.y - my) ** 2));
  const slope = cov / sx ** 2;
  return { r: cov / (sx * sy), slope, intercept: my - slope * mx };
}

let fx: ChartFixture;
before(async () => {
  fx = await setupExperiment(env.dir, 3);
  await sweep(fx, { type: "merge", methods: ["ties", "ties_sv"], densities: [[0.2], [1.0]] });
  assert.equal(await drainQueue(), 6);
});

describe("scores against merge statistics", () => {
  it("should fit a line and r like the textbook formulas, and refuse to fit without spread", () => {
    const xy = [
      { x: 1, y: 2.5 },
      { x: 2, y: 2.9 },
      { x: 4, y: 5.1 },
      { x: 7, y: 6.2 },
    ];
    const f = linearFit(xy)!;
    const ref = reference(xy);
    assert.ok(Math.abs(f.r - ref.r) < 1e-12 && Math.abs(f.slope - ref.slope) < 1e-12 && Math.abs(f.intercept - ref.intercept) < 1e-12);
    assert.equal(f.n, 4);
    assert.equal(linearFit([{ x: 1, y: 1 }]), null);
    assert.equal(linearFit([{ x: 1, y: 1 }, { x: 1, y: 2 }]), null);
  });

  it("should place every merge by its own sign election and its score", async () => {
    const ctx = await experimentContext(fx.experimentId);
    const outputs = await mergeOutputs(ctx);
    const client = await db();
    const task = "belebele_tel_Telu";
    let n = 0;
    for (const o of outputs) {
      const value = 0.4 + 0.01 * o.checkpoint.tokensB! + (o.method === "ties_sv" ? 0.005 : 0);
      await client.score.create({ data: { modelName: o.outputPath, task, split: "test", metric: "acc", filter: "none", value, sourceHash: `ss-${++n}` } });
    }
    const d = await scoreVsStatistic({ experimentId: fx.experimentId, split: "test", task, statistic: "sftDiscardPct" });
    assert.equal(d.points.length, 6);
    // x: the SFT discard rate of the merge's own stored analysis.
    for (const p of d.points) {
      const a = await client.analysis.findFirstOrThrow({ where: { jobId: p.jobId } });
      const { totals } = JSON.parse(a.totals) as { totals: { discarded: number[]; nnz_trimmed: number[] } };
      assert.ok(Math.abs(p.x! - (100 * totals.discarded[0]!) / totals.nnz_trimmed[0]!) < 1e-9, `${p.label}: ${p.x}`);
      assert.ok(Math.abs(p.y! - 100 * (0.4 + 0.01 * p.tokensB! + (p.method === "ties_sv" ? 0.005 : 0))) < 1e-9);
    }
    // TIES-SV discards less of the SFT model than TIES at the same checkpoint.
    for (const ct of ctx.checkpoints) {
      const [t, s] = ["ties", "ties_sv"].map((m) => d.points.find((p) => p.method === m && p.checkpointId === ct.modelId)!);
      assert.ok(s!.x! < t!.x!);
    }
    const ref = reference(d.points.map((p) => ({ x: p.x!, y: p.y! })));
    assert.ok(Math.abs(d.fit!.r - ref.r) < 1e-12);
    assert.equal(d.fit!.n, 6);
    // The rescued share exists for TIES-SV merges only.
    const rescued = await scoreVsStatistic({ experimentId: fx.experimentId, split: "test", task, statistic: "sftRescuedPct" });
    assert.deepEqual(
      rescued.points.map((p) => [p.method, p.x === null]).sort(),
      [...Array(3).fill(["ties", true]), ...Array(3).fill(["ties_sv", false])],
    );
  });
});
