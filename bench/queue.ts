// `npm run bench:queue`: job-queue throughput (tiny analyze jobs per second)
// in the embedded SQLite mode and the BullMQ/Redis mode, and recovery time —
// from a worker's kill -9 to its job running again on another worker.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { closeDb, db } from "../server/db/client";
import { resetEnvCache } from "../server/env";
import { generateModelFamily } from "../server/engine/synthetic/family";
import { closeRedisProducer } from "../server/jobs/bullmq/producer";
import { enqueueJob } from "../server/jobs/client";
import { startRedis } from "../test/unit/jobs/redis-helpers";

const N_JOBS = Number(process.env.BENCH_QUEUE_JOBS ?? 200);
const WORKERS = 2;
const root = path.resolve(import.meta.dirname, "..");

function recipe(density: number, ct = "ct-2B"): string {
  return `merge_method: ties\nbase_model: ./base\nmodels:\n  - model: ./sft\n    parameters: {weight: 1.0, density: ${density}}\n  - model: ./${ct}\n    parameters: {weight: 1.0, density: 1.0}\n`;
}

async function waitFor(fn: () => Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > timeoutMs) throw new Error("timed out");
    await sleep(20);
  }
}

async function runMode(mode: "embedded" | "redis"): Promise<{ jobsPerSec: number; recoverySec: number }> {
  const log = (m: string) => console.error(`[bench:queue ${mode}] ${m}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), `ms-bench-queue-${mode}-`));
  process.env.MERGESCOPE_DATA_DIR = path.join(dir, "data");
  const redis = mode === "redis" ? await startRedis() : null;
  if (redis) process.env.REDIS_URL = redis.url;
  else delete process.env.REDIS_URL;
  resetEnvCache();
  const procs: ChildProcess[] = [];
  const start = (script: string) => {
    const c = spawn(process.execPath, ["--import", "tsx", path.join(root, script)], { cwd: root, env: { ...process.env, MERGESCOPE_WORKERS: String(WORKERS) }, stdio: ["ignore", "ignore", "inherit"] });
    procs.push(c);
    return c;
  };
  try {
    const tiny = path.join(dir, "tiny");
    generateModelFamily({ out: tiny, hidden: 16, layers: 1, intermediate: 32, vocab: 32, heads: 2, kvHeads: 1, ctCheckpoints: 1, tokensPerCheckpoint: 2, dtype: "bf16", seed: 1 });
    log("tiny family generated");
    const client = await db();
    if (redis) start("server/worker/recorder-main.ts");
    for (let i = 0; i < WORKERS; i++) start("server/worker/main.ts");
    await sleep(3000); // workers connected and idle
    log("workers started");

    // Throughput: N distinct tiny analyze jobs (distinct densities → distinct idempotency keys).
    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < N_JOBS; i++) ids.push((await enqueueJob({ type: "analyze", payload: { recipeYaml: recipe(0.1 + i / (N_JOBS * 2)), recipeDir: tiny } })).job.id);
    await waitFor(async () => {
      const failed = await client.job.findFirst({ where: { id: { in: ids }, status: "failed" } });
      if (failed) throw new Error(`job ${failed.id} failed: [${failed.errorCode}] ${failed.errorMessage}`);
      return (await client.job.count({ where: { id: { in: ids }, status: "done" } })) === N_JOBS;
    });
    const jobsPerSec = N_JOBS / ((performance.now() - t0) / 1000);
    log(`${N_JOBS} jobs done: ${jobsPerSec.toFixed(1)}/s`);

    // Recovery: a merge long enough to be killed while it runs.
    const big = path.join(dir, "big");
    generateModelFamily({ out: big, hidden: 1024, layers: 4, intermediate: 2048, vocab: 32000, heads: 4, kvHeads: 2, ctCheckpoints: 1, tokensPerCheckpoint: 2, dtype: "bf16", seed: 2 });
    const { job } = await enqueueJob({ type: "merge", payload: { recipeYaml: recipe(0.2), recipeDir: big } });
    await waitFor(async () => (await client.job.findUnique({ where: { id: job.id } }))?.status === "running");
    // Which worker runs it: embedded mode knows the owner's pid; in Redis mode kill both workers' candidates one by one.
    const row = await client.job.findUniqueOrThrow({ where: { id: job.id } });
    const ownerPid = row.leaseOwner ? Number(row.leaseOwner.split("/")[1]) : null;
    const victims = ownerPid ? procs.filter((p) => p.pid === ownerPid) : procs.filter((p) => p.spawnargs.some((a) => a.includes("worker")));
    const killedAt = performance.now();
    for (const v of victims) v.kill("SIGKILL");
    start("server/worker/main.ts");
    await waitFor(async () => {
      const r = await client.job.findUnique({ where: { id: job.id } });
      return r?.status === "running" && r.attempts >= 2;
    });
    const recoverySec = (performance.now() - killedAt) / 1000;
    await waitFor(async () => (await client.job.findUnique({ where: { id: job.id } }))?.status === "done");
    return { jobsPerSec, recoverySec };
  } finally {
    for (const p of procs) p.kill("SIGKILL");
    await closeRedisProducer().catch(() => {});
    await closeDb();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: string[] = [];
for (const mode of ["embedded", "redis"] as const) {
  const r = await runMode(mode);
  rows.push(`| ${mode} | ${r.jobsPerSec.toFixed(1)} | ${r.recoverySec.toFixed(1)} |`);
}
console.log(`\nMergeScope queue bench — ${N_JOBS} tiny analyze jobs, ${WORKERS} workers, ${os.cpus().length} cores\n`);
console.log("| queue | tiny jobs / s | worker kill -9 → job running again (s) |");
console.log("| --- | ---: | ---: |");
for (const r of rows) console.log(r);
process.exit(0);
