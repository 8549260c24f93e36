// Scale-out mode end to end: redis-server, a recorder (the server side) and
// BullMQ worker processes that never open the database. A 12-merge sweep
// survives a worker's kill -9 and a recorder restart; identical enqueues
// dedupe; a running merge can be cancelled without leaving output.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { db } from "../../../server/db/client";
import { merge } from "../../../server/engine/merge";
import { parseRecipeYaml } from "../../../server/engine/recipe";
import { resetEnvCache } from "../../../server/env";
import { closeRedisProducer } from "../../../server/jobs/bullmq/producer";
import { cancelJob, enqueueJob } from "../../../server/jobs/client";
import { enqueueSweep } from "../../../server/services/sweeps/sweep";
import { freshDataDir, tiesRecipe, tinyFamily } from "./helpers";
import { startRedis } from "./redis-helpers";

const env = freshDataDir("ms-redis-mode-");
const family = path.join(env.dir, "family");
const workerDataDir = path.join(env.dir, "worker-data");
const outputDir = path.join(env.dir, "data", "merges");
const procs = new Set<ChildProcess>();
let redis: Awaited<ReturnType<typeof startRedis>>;

function start(script: string, extraEnv: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", script], { env: { ...process.env, ...extraEnv }, stdio: ["ignore", "ignore", "inherit"] });
  procs.add(child);
  child.on("exit", () => procs.delete(child));
  return child;
}
const startWorker = () =>
  start("server/worker/main.ts", { MERGESCOPE_DATA_DIR: workerDataDir, MERGESCOPE_OUTPUT_DIR: outputDir, MERGESCOPE_WORKERS: "2" });
const startRecorder = () => start("server/worker/recorder-main.ts", {});

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill(signal);
  await exited;
}

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 240_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

before(async () => {
  redis = await startRedis();
  process.env.REDIS_URL = redis.url;
  resetEnvCache();
  mkdirSync(workerDataDir, { recursive: true });
  tinyFamily(family, { ctCheckpoints: 3, hidden: 512, layers: 4, vocab: 16000 });
});
after(async () => {
  for (const p of [...procs]) await stop(p, "SIGKILL");
  await closeRedisProducer();
  await redis?.stop();
  delete process.env.REDIS_URL;
  await env.cleanup();
});

describe("scale-out queue (BullMQ on Redis)", () => {
  it("should create one job for 20 concurrent identical enqueues", async () => {
    const payload = { recipeYaml: tiesRecipe(family, "ct-2B"), recipeDir: family };
    const results = await Promise.all(Array.from({ length: 20 }, () => enqueueJob({ type: "analyze", payload })));
    assert.equal(new Set(results.map((r) => r.job.id)).size, 1);
    assert.equal(results.filter((r) => r.created).length, 1);
  });

  it("should finish a 12-merge sweep despite a worker's kill -9 and a server restart", async () => {
    let recorder = startRecorder();
    const w1 = startWorker();
    startWorker();
    const { jobs } = await enqueueSweep({
      type: "merge",
      recipeYaml: tiesRecipe(family, "ct-2B"),
      recipeDir: family,
      checkpoints: ["./ct-2B", "./ct-4B", "./ct-6B"],
      methods: ["ties", "ties_sv"],
      densities: [[0.2, 0.4], [1.0]],
    });
    const ids = jobs.map((j) => j.id);
    assert.equal(ids.length, 12);
    const client = await db();

    await waitFor("a running merge", async () => client.job.findFirst({ where: { id: { in: ids }, status: "running", startedAt: { lt: new Date(Date.now() - 150) } } }));
    await stop(w1, "SIGKILL");
    startWorker();

    await waitFor("some progress", async () => (await client.job.count({ where: { id: { in: ids }, status: "done" } })) >= 2);
    await stop(recorder, "SIGTERM");
    await sleep(500);
    recorder = startRecorder();

    await waitFor("every job to finish", async () => (await client.job.count({ where: { id: { in: ids }, status: { in: ["queued", "running"] } } })) === 0);
    const rows = await client.job.findMany({ where: { id: { in: ids } } });
    assert.deepEqual(rows.map((r) => r.status), new Array(12).fill("done"), JSON.stringify(rows.map((r) => [r.status, r.errorCode, r.errorMessage])));
    assert.equal(new Set(rows.map((r) => r.outputPath)).size, 12);
    await waitFor("stale staging swept", async () => !readdirSync(outputDir).some((n) => n.includes(".staging-")), 20_000);
    assert.equal(readdirSync(outputDir).length, 12);
    // The workers never opened (or created) a database.
    assert.equal(existsSync(path.join(workerDataDir, "mergescope.db")), false);

    for (const row of rows) {
      const payload = JSON.parse(row.payload) as { recipeYaml: string; recipeDir: string };
      const serial = await merge(parseRecipeYaml(payload.recipeYaml, { recipeDir: payload.recipeDir }), path.join(env.dir, "serial", row.id));
      const shards = (dir: string) =>
        (JSON.parse(readFileSync(path.join(dir, "mergescope-manifest.json"), "utf8")) as { files: { path: string; sha256: string }[] }).files.filter((f) => f.path.endsWith(".safetensors"));
      assert.deepEqual(shards(row.outputPath!), shards(serial.outDir), `job ${row.id} equals the serial run`);
    }
  });

  it("should cancel a running merge and leave no output", async () => {
    const client = await db();
    const { job } = await enqueueJob({ type: "merge", payload: { recipeYaml: tiesRecipe(family, "ct-6B", "ties_sv", 0.4), recipeDir: family, label: "cancel me" }, force: true });
    await waitFor("the merge to run", async () => (await client.job.findUnique({ where: { id: job.id } }))?.status === "running");
    await cancelJob(job.id);
    const row = await waitFor("cancelled", async () => {
      const r = await client.job.findUnique({ where: { id: job.id } });
      return r && r.status !== "running" ? r : null;
    });
    if (row.status === "done") {
      // The merge beat the cancellation; that is allowed, but then its output must be complete.
      assert.ok(row.outputSha256);
      return;
    }
    assert.equal(row.status, "cancelled");
    assert.equal(row.outputPath, null);
    await waitFor("no staging", async () => !readdirSync(outputDir).some((n) => n.includes(".staging-")), 20_000);
  });
});
