// The series pass as a job: one `analyze-series` job over a CT series stores exactly the Analysis
// rows that one `analyze-sweep` job per checkpoint stores — same (checkpoint, densities) rows, the
// same numbers bit for bit (the engine runs the same kernel on the same arrays), per tensor and
// in the totals/byLayer/byModule JSON — and reads base and SFT once instead of once per checkpoint.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { inspectModel } from "../../../server/engine/native-merge";
import { enqueueJob } from "../../../server/jobs/client";
import { expandSweep } from "../../../server/services/sweeps/sweep";
import { drainQueue, freshDataDir, setupExperiment, sweep, tiesRecipe, type ChartFixture } from "./helpers";

const env = freshDataDir("ms-charts-series-");
after(() => env.cleanup());

const GRID = [0.01, 0.2, 0.6, 1.0];
let viaSeries: ChartFixture;
let perCheckpoint: ChartFixture;

type Row = { key: string; totals: string; tensors: string[] };

/** Every stored row of the experiment, by checkpoint folder and densities; paths of the family left out. */
async function rows(fx: ChartFixture): Promise<Row[]> {
  const client = await db();
  const analyses = await client.analysis.findMany({ where: { experimentId: fx.experimentId }, include: { tensors: true } });
  const strip = (json: string) => json.split(fx.family).join("<family>");
  return analyses
    .map((a) => {
      const paths = JSON.parse(a.modelPaths) as string[];
      return {
        key: `${paths[paths.length - 1]!.split("/").pop()} ${a.method} ${a.densities}`,
        totals: strip(a.totals),
        tensors: a.tensors.map((t) => `${t.name} ${strip(t.stats)}`).sort(),
      };
    })
    .sort((x, y) => x.key.localeCompare(y.key));
}

before(async () => {
  viaSeries = await setupExperiment(env.dir, 3, "series");
  perCheckpoint = await setupExperiment(env.dir, 3, "per-checkpoint");
});

describe("analyze-series jobs", () => {
  it("should run a ties density sweep over several checkpoints as one analyze-series job", async () => {
    assert.equal(await sweep(viaSeries, { type: "analyze", methods: ["ties"], densities: [GRID, GRID] }), 1);
    const client = await db();
    const jobs = await client.job.findMany({ where: { experimentId: viaSeries.experimentId } });
    assert.deepEqual(jobs.map((j) => j.type), ["analyze-series"]);
    assert.equal(JSON.parse(jobs[0]!.payload).recipeYamls.length, 3);
    assert.notEqual(jobs[0]!.sweepId, null, "the job belongs to the sweep row of the jobs page");
    assert.equal(await drainQueue(), 1);
    const done = await client.job.findUniqueOrThrow({ where: { id: jobs[0]!.id } });
    assert.equal(done.status, "done");
    const result = JSON.parse(done.result!) as { checkpoints: number; points: number; bytesRead: number };
    assert.deepEqual([result.checkpoints, result.points], [3, GRID.length * GRID.length]);
    assert.equal((await rows(viaSeries)).length, 3 * GRID.length * GRID.length);
  });

  it("should store exactly the rows of one analyze-sweep job per checkpoint", async () => {
    // The recipes the series job was given, one analyze-sweep job each (what the sweep enqueue queued before).
    const recipes = expandSweep({ type: "analyze", recipeYaml: tiesRecipe(perCheckpoint.family, "ct-2B"), recipeDir: perCheckpoint.family, checkpoints: perCheckpoint.cts.map((c) => c.path), methods: ["ties"] });
    assert.equal(recipes.length, 3);
    for (const r of recipes) {
      await enqueueJob({ type: "analyze-sweep", payload: { recipeYaml: r.yaml, recipeDir: perCheckpoint.family, densities: GRID }, experimentId: perCheckpoint.experimentId });
    }
    assert.equal(await drainQueue(), 3);
    const a = await rows(viaSeries);
    const b = await rows(perCheckpoint);
    assert.equal(a.length, 3 * GRID.length * GRID.length);
    assert.deepEqual(a.map((x) => x.key), b.map((y) => y.key));
    a.forEach((x, i) => {
      assert.equal(x.totals, b[i]!.totals, `${x.key}: totals, byLayer, byModule`);
      assert.deepEqual(x.tensors, b[i]!.tensors, `${x.key}: tensor rows`);
    });
    // N + 2 model reads instead of 3N: the series job read the base, the SFT and each checkpoint once.
    const client = await db();
    const job = (await client.job.findMany({ where: { experimentId: viaSeries.experimentId } }))[0]!;
    const { bytesRead } = JSON.parse(job.result!) as { bytesRead: number };
    const size = { BF16: 2, F16: 2, F32: 4 } as Record<string, number>;
    const modelBytes = (p: string) => inspectModel(p).tensors.reduce((n, t) => n + t.shape.reduce((a, d) => a * d, 1) * size[t.dtype]!, 0);
    const models = [viaSeries.base, viaSeries.sft, ...viaSeries.cts].map((m) => modelBytes(m.path));
    assert.equal(bytesRead, models.reduce((a, b) => a + b, 0));
  });

  it("should keep a single checkpoint on an analyze-sweep job", async () => {
    const fx = await setupExperiment(env.dir, 1, "single");
    assert.equal(await sweep(fx, { type: "analyze", methods: ["ties"], densities: [GRID, GRID] }), 1);
    const types = (await (await db()).job.findMany({ where: { experimentId: fx.experimentId } })).map((j) => j.type);
    assert.deepEqual(types, ["analyze-sweep"]);
  });
});
