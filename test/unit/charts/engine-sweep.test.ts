// An analysis sweep whose models share one density list runs as one engine pass for the whole
// grid: one `analyze-series` job over several checkpoints (test/unit/charts/series.test.ts proves
// it equals one `analyze-sweep` job per checkpoint), an `analyze-sweep` job for a single one. It
// must store exactly the Analysis rows — same densities, same numbers — that one `analyze` job
// per point stores.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { drainQueue, freshDataDir, setupExperiment, sweep, type ChartFixture } from "./helpers";

const env = freshDataDir("ms-charts-engine-sweep-");
after(() => env.cleanup());

const GRID = [0.2, 0.5, 1.0];
let viaSweep: ChartFixture;
let perPoint: ChartFixture;

type Row = { densities: number[]; checkpoint: string; totals: unknown; tensors: Map<string, unknown> };

async function rows(fx: ChartFixture): Promise<Row[]> {
  const client = await db();
  const analyses = await client.analysis.findMany({ where: { experimentId: fx.experimentId }, include: { tensors: true } });
  return analyses
    .map((a) => {
      const paths = JSON.parse(a.modelPaths) as string[];
      const totals = JSON.parse(a.totals) as { totals: Record<string, unknown> };
      return {
        densities: JSON.parse(a.densities) as number[],
        checkpoint: paths[paths.length - 1]!.split("/").pop()!,
        totals: totals.totals,
        tensors: new Map(a.tensors.map((t) => [t.name, JSON.parse(t.stats) as unknown])),
      };
    })
    .sort((x, y) => `${x.checkpoint} ${x.densities}`.localeCompare(`${y.checkpoint} ${y.densities}`));
}

/** discarded_l1 is summed in a different order by the sweep: compare it to 1e-9 relative, the rest exactly. */
function roundL1(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v), (k, x) =>
    k === "discarded_l1" && Array.isArray(x) ? x.map((y: number) => Number(y.toPrecision(9))) : x,
  );
}

before(async () => {
  viaSweep = await setupExperiment(env.dir, 2, "engine-sweep");
  perPoint = await setupExperiment(env.dir, 2, "per-point");
});

describe("analyze-sweep jobs", () => {
  it("should queue one series job for the checkpoints and store one analysis per checkpoint and grid point", async () => {
    assert.equal(await sweep(viaSweep, { type: "analyze", methods: ["ties"], densities: [GRID, GRID] }), 1);
    const client = await db();
    const jobs = await client.job.findMany({ where: { experimentId: viaSweep.experimentId } });
    assert.deepEqual(jobs.map((j) => j.type), ["analyze-series"]);
    assert.equal(await drainQueue(), 1);
    const stored = await rows(viaSweep);
    assert.equal(stored.length, 2 * GRID.length * GRID.length);
    assert.deepEqual([...new Set(stored.map((r) => JSON.stringify(r.densities)))].length, 9);
  });

  it("should store the same numbers as one analyze job per point", async () => {
    // Different lists per model: the per-point path (9 analyze jobs per checkpoint).
    const grid = GRID.map((d) => [d]);
    let created = 0;
    for (const a of grid) for (const b of grid) created += await sweep(perPoint, { type: "analyze", methods: ["ties"], densities: [a, b] });
    assert.equal(created, 18);
    const client = await db();
    assert.ok((await client.job.findMany({ where: { experimentId: perPoint.experimentId } })).every((j) => j.type === "analyze"));
    assert.equal(await drainQueue(), 18);
    const a = await rows(viaSweep);
    const b = await rows(perPoint);
    assert.equal(a.length, b.length);
    a.forEach((x, i) => {
      const y = b[i]!;
      assert.deepEqual([x.checkpoint, x.densities], [y.checkpoint, y.densities]);
      assert.deepEqual(roundL1(x.totals), roundL1(y.totals), `${x.checkpoint} ${x.densities} totals`);
      assert.deepEqual([...x.tensors.keys()], [...y.tensors.keys()]);
      for (const [name, t] of x.tensors) assert.deepEqual(roundL1(t), roundL1(y.tensors.get(name)), `${x.checkpoint} ${x.densities} ${name}`);
    });
  });

  it("should keep other methods of the same sweep on per-point jobs", async () => {
    const fx = await setupExperiment(env.dir, 1, "mixed");
    assert.equal(await sweep(fx, { type: "analyze", methods: ["ties", "ties_sv"], densities: [[0.2, 1.0], [0.2, 1.0]] }), 1 + 4);
    const client = await db();
    const types = (await client.job.findMany({ where: { experimentId: fx.experimentId } })).map((j) => j.type).sort();
    assert.deepEqual(types, ["analyze", "analyze", "analyze", "analyze", "analyze-sweep"]);
  });
});
