// Scale-out mode (BullMQ on a real redis-server) under the faults the embedded queue
// survives (crash-recovery.test.ts): kill -9 of a worker mid-merge, kill -9 of the
// recorder while jobs complete, a Redis crash and restart on its append-only file, and
// another host's staging sweep during a merge. Every test counts what went wrong —
// lost, duplicated, staging left, foreign staging deleted — and expects zeros.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { db } from "../../../server/db/client";
import { merge } from "../../../server/engine/merge";
import { verifyOutput } from "../../../server/engine/output";
import { parseRecipeYaml } from "../../../server/engine/recipe";
import { resetEnvCache } from "../../../server/env";
import { closeRedisProducer, redisQueue } from "../../../server/jobs/bullmq/producer";
import { enqueueJob } from "../../../server/jobs/client";
import { freshDataDir, tiesRecipe, tinyFamily } from "./helpers";
import { startRedis, type TestRedis } from "./redis-helpers";

const env = freshDataDir("ms-redis-faults-");
const family = path.join(env.dir, "family");
const workerDataDir = path.join(env.dir, "worker-data");
const outputDir = path.join(env.dir, "data", "merges");
const procs = new Set<ChildProcess>();
let redis: TestRedis;

/** Runs `argv` (optionally under `unshare` flags: another host name / pid namespace), tracked for cleanup. */
function start(argv: string[], extraEnv: Record<string, string> = {}, opts: { namespaces?: string[]; host?: string; stdout?: boolean } = {}): ChildProcess {
  const [cmd, ...args] = opts.namespaces
    ? // --kill-child: the namespaced process dies with its unshare parent; `hostname` only changes the new UTS namespace.
      ["unshare", ...opts.namespaces, "--fork", "--kill-child", "sh", "-c", 'hostname "$0" && exec "$@"', opts.host ?? "other-host", ...argv]
    : argv;
  const child = spawn(cmd!, args, { env: { ...process.env, ...extraEnv }, stdio: ["ignore", opts.stdout ? "pipe" : "ignore", "inherit"] });
  procs.add(child);
  child.on("exit", () => procs.delete(child));
  return child;
}
const tsx = (script: string, ...args: string[]) => [process.execPath, "--import", "tsx", script, ...args];
const workerEnv = { MERGESCOPE_DATA_DIR: workerDataDir, MERGESCOPE_OUTPUT_DIR: outputDir, MERGESCOPE_WORKERS: "2" };
const startWorker = (opts: { namespaces?: string[]; host?: string } = {}) => start(tsx("server/worker/main.ts"), workerEnv, opts);
const startRecorder = () => start(tsx("server/worker/recorder-main.ts"));

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill(signal);
  await exited;
}
async function stopAll(): Promise<void> {
  for (const p of [...procs]) await stop(p, "SIGKILL");
}

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 90_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

const STAGING = /^\.(.+)\.(?:staging|replaced)-(?:h([A-Za-z0-9_]+)-)?(\d+)-[0-9a-f]+$/;
const stagingNames = (ignore: string[] = []) => readdirSync(outputDir).filter((n) => STAGING.test(n) && !ignore.includes(n));
const publishedNames = () => readdirSync(outputDir).filter((n) => !n.startsWith("."));

function mergePayload(ct: string, method: string, density: number, outputName?: string) {
  return { recipeYaml: tiesRecipe(family, ct, method, density), recipeDir: family, ...(outputName ? { outputName } : {}) };
}

async function enqueueAll(jobs: { type: "merge" | "analyze"; payload: object }[]): Promise<string[]> {
  const ids: string[] = [];
  for (const j of jobs) {
    const r = await enqueueJob({ ...j, force: true });
    assert.ok(r.created, `job ${j.type} ${JSON.stringify(j.payload).slice(0, 80)} is new`);
    ids.push(r.job.id);
  }
  return ids;
}

const unfinished = async (ids: string[]) => (await db()).job.count({ where: { id: { in: ids }, status: { in: ["queued", "running"] } } });

/**
 * What went wrong for these jobs, counted from the database and the output folder:
 * lost: a job not done, a done merge whose output is missing or fails verification, or
 * whose merged-model registration is missing, a done analysis without its rows;
 * duplicated: more than one published folder per merge, more than one analysis per
 * job, tensor rows beyond the analysis' tensor count; stagingLeft: staging folders.
 */
async function tally(ids: string[], ignoreStaging: string[] = []): Promise<{ lost: number; duplicated: number; stagingLeft: number; notes: string[] }> {
  const client = await db();
  const rows = await client.job.findMany({ where: { id: { in: ids } } });
  const notes: string[] = [];
  let lost = ids.length - rows.length;
  let duplicated = 0;
  const published = publishedNames();
  for (const row of rows) {
    if (row.status !== "done") {
      lost++;
      notes.push(`${row.id}: ${row.status} ${row.errorCode ?? ""} ${row.errorMessage ?? ""}`);
      continue;
    }
    if (row.type === "merge") {
      const folders = published.filter((n) => n.endsWith(`-${row.idempotencyKey.slice(0, 12)}`));
      if (folders.length > 1) duplicated += folders.length - 1;
      const verified = row.outputPath ? await verifyOutput(row.outputPath).catch(() => null) : null;
      if (!verified?.ok || folders.length === 0) {
        lost++;
        notes.push(`${row.id}: output ${row.outputPath} missing or unverified`);
        continue;
      }
      const models = await client.model.count({ where: { path: realpathSync(row.outputPath!) } });
      if (models !== 1) {
        lost++;
        const logs = await client.jobLog.findMany({ where: { jobId: row.id }, orderBy: { id: "asc" } });
        notes.push(`${row.id}: ${models} registered models for ${row.outputPath} (log: ${logs.map((l) => l.message).join(" | ")})`);
      }
    } else if (row.type === "analyze") {
      const tensors = (JSON.parse(row.result ?? "{}") as { tensors?: number }).tensors ?? -1;
      const analyses = await client.analysis.findMany({ where: { jobId: row.id }, include: { _count: { select: { tensors: true } } } });
      if (analyses.length === 0) {
        lost++;
        notes.push(`${row.id}: no analysis rows`);
      } else duplicated += analyses.length - 1;
      for (const a of analyses) {
        if (a._count.tensors > tensors) duplicated += a._count.tensors - tensors;
        if (a._count.tensors < tensors) {
          lost++;
          notes.push(`${row.id}: ${a._count.tensors} of ${tensors} tensor rows`);
        }
      }
    }
  }
  return { lost, duplicated, stagingLeft: stagingNames(ignoreStaging).length, notes };
}

/** `label` says which fault (and any counts of its own); `ignoreStaging`: folders another host must clean. */
async function expectClean(ids: string[], label: string, ignoreStaging: string[] = []): Promise<void> {
  await waitFor("every job to finish", async () => (await unfinished(ids)) === 0);
  // Workers sweep their host's dead staging folders every 5 s.
  // Follow-ups (model registration) land just after the done status; give them and the sweep 20 s.
  let t = await tally(ids, ignoreStaging);
  for (const t0 = Date.now(); t.lost + t.duplicated + t.stagingLeft > 0 && Date.now() - t0 < 20_000; ) {
    await sleep(250);
    t = await tally(ids, ignoreStaging);
  }
  assert.deepEqual({ lost: t.lost, duplicated: t.duplicated, stagingLeft: t.stagingLeft }, { lost: 0, duplicated: 0, stagingLeft: 0 }, `${label}: ${JSON.stringify(t)} staging: ${stagingNames().join(", ")}`);
}

/** The merge's shards equal those of a clean in-process run of the same recipe. */
async function assertSameAsCleanRun(ids: string[]): Promise<void> {
  const client = await db();
  for (const row of await client.job.findMany({ where: { id: { in: ids }, type: "merge" } })) {
    const payload = JSON.parse(row.payload) as { recipeYaml: string; recipeDir: string };
    const clean = await merge(parseRecipeYaml(payload.recipeYaml, { recipeDir: payload.recipeDir }), path.join(env.dir, "clean", row.id));
    const shards = (dir: string) =>
      (JSON.parse(readFileSync(path.join(dir, "mergescope-manifest.json"), "utf8")) as { files: { path: string; sha256: string }[] }).files.filter((f) => f.path.endsWith(".safetensors"));
    assert.deepEqual(shards(row.outputPath!), shards(clean.outDir), `job ${row.id}: output equals a clean run`);
  }
}

before(async () => {
  redis = await startRedis();
  process.env.REDIS_URL = redis.url;
  resetEnvCache();
  mkdirSync(workerDataDir, { recursive: true });
  mkdirSync(outputDir, { recursive: true });
  // ~28M parameters per model: a ties_sv merge takes a few seconds, long enough to be hit mid-way.
  tinyFamily(family, { ctCheckpoints: 2, hidden: 512, layers: 4, vocab: 16000 });
});
after(async () => {
  await stopAll();
  await closeRedisProducer();
  await redis?.stop("SIGKILL");
  delete process.env.REDIS_URL;
  await env.cleanup();
});

describe("scale-out queue under faults (BullMQ on redis-server)", () => {
  it("should re-run a merge whose worker was killed with SIGKILL mid-merge, exactly once", async () => {
    startRecorder();
    startWorker();
    startWorker();
    const ids = await enqueueAll([{ type: "merge", payload: mergePayload("ct-2B", "ties_sv", 0.3) }]);
    // Mid-merge: the job runs and its staging folder (which names the worker's pid) exists.
    const staging = await waitFor("the merge to be under way (its staging folder)", () => stagingNames()[0]);
    const pid = Number(STAGING.exec(staging)![3]);
    const victim = [...procs].find((p) => p.pid === pid);
    assert.ok(victim, `staging ${staging} belongs to one of our workers`);
    await stop(victim, "SIGKILL");
    assert.ok(stagingNames().includes(staging), `killed before the merge was published: ${staging} is still there`);

    await expectClean(ids, "worker kill -9");
    const job = await redisQueue().getJob(ids[0]!);
    const starts = (await redisQueue().getJobLogs(ids[0]!)).logs.filter((l) => /^(info: )?attempt \d+ started\b/.test(l)).length;
    assert.ok(starts >= 2, `the stalled job was picked up again (${starts} starts, attemptsStarted ${job?.attemptsStarted})`);
    assert.equal(publishedNames().length, 1, `one published output: ${publishedNames().join(", ")}`);
    await assertSameAsCleanRun(ids);
    await stopAll();
  });

  it("should record every job exactly once when the recorder is killed with SIGKILL while jobs complete", async () => {
    let recorder = startRecorder();
    startWorker();
    startWorker();
    const ids = await enqueueAll([
      { type: "analyze", payload: mergePayload("ct-2B", "ties", 0.2) },
      { type: "merge", payload: mergePayload("ct-4B", "ties", 0.2) },
      { type: "analyze", payload: mergePayload("ct-4B", "ties_sv", 0.2) },
      { type: "merge", payload: mergePayload("ct-2B", "ties", 0.4) },
      { type: "analyze", payload: mergePayload("ct-2B", "ties_sv", 0.4) },
    ]);
    const client = await db();
    // Kill it right after it recorded a merge as done, while it registers the merged model.
    await waitFor("a recorded merge", async () => (await client.job.count({ where: { id: { in: ids }, type: "merge", status: "done" } })) >= 1, 90_000);
    await stop(recorder, "SIGKILL");
    const recordedAtKill = await client.job.count({ where: { id: { in: ids }, status: "done" } });
    // Jobs keep completing in Redis while nobody records them.
    await waitFor("completions while the recorder is down", async () => {
      const states = await Promise.all(ids.map(async (id) => (await redisQueue().getJob(id))?.getState()));
      return states.filter((s) => s === "completed").length >= recordedAtKill + 2;
    });
    recorder = startRecorder();
    await expectClean(ids, "recorder kill -9");
    await stopAll();
  });

  it("should lose nothing when Redis is killed and restarted on its append-only file", async () => {
    startRecorder();
    startWorker();
    startWorker();
    const ids = await enqueueAll([
      { type: "merge", payload: mergePayload("ct-2B", "ties_sv", 0.5) },
      { type: "merge", payload: mergePayload("ct-4B", "ties_sv", 0.5) },
      { type: "merge", payload: mergePayload("ct-2B", "ties", 0.6) },
    ]);
    const client = await db();
    await waitFor("merges under way with more queued", async () => {
      const running = await client.job.count({ where: { id: { in: ids }, status: "running" } });
      return running >= 1 && stagingNames().length >= 1 && (await unfinished(ids)) >= 2;
    });
    await redis.stop("SIGKILL");
    // A job queued during the outage waits for Redis instead of failing or being dropped.
    const duringOutage = enqueueAll([{ type: "merge", payload: mergePayload("ct-2B", "ties", 0.7) }]);
    // Longer than the workers' lock (10 s): running jobs lose their locks, are found stalled
    // and run again while their first worker may still be merging.
    await sleep(11_000);
    await redis.restart();
    ids.push(...(await duringOutage));
    await expectClean(ids, "redis restart");
    await assertSameAsCleanRun(ids);
    await stopAll();
  });

  it("should never let another host's staging sweep delete a live merge, and sweep only its own host's dead folders", async (t) => {
    // Two hosts on one machine: host A's worker gets its own host name (UTS namespace);
    // host B's sweeper also gets its own pid namespace, so A's pids are dead from B's side —
    // as on a real second machine.
    const probe = spawnSync("unshare", ["--uts", "--pid", "--fork", "--kill-child", "true"]);
    if (probe.status !== 0) {
      t.skip(`needs unshare with UTS and PID namespaces (root or user namespaces): ${probe.stderr?.toString().trim() || probe.error?.message}`);
      return;
    }
    startRecorder();
    startWorker({ namespaces: ["--uts"], host: "hostA" });
    // Left behind by a crashed merge of host B (pid 4242 does not exist in B's namespace),
    // and by host C (not ours to judge from B).
    const ownDead = ".old.staging-hhostB-4242-0badf00d";
    const foreignDead = ".old.staging-hhostC-4242-0badf00d";
    mkdirSync(path.join(outputDir, ownDead));
    mkdirSync(path.join(outputDir, foreignDead));

    const ids = await enqueueAll([{ type: "merge", payload: mergePayload("ct-4B", "ties_sv", 0.8, "host-a") }]);
    const client = await db();
    const live = await waitFor("host A's merge to be under way (its staging folder)", () => stagingNames().find((n) => n.includes(".staging-hhostA-")));

    const sweeper = start(tsx("test/unit/jobs/sweep-loop.ts", outputDir), {}, { namespaces: ["--uts", "--pid"], host: "hostB", stdout: true });
    const removed: string[] = [];
    let sweeps = 0;
    let sweepsDuringMerge = 0;
    createInterface({ input: sweeper.stdout! }).on("line", (line) => {
      const r = JSON.parse(line) as { n?: number; removed?: string[] };
      if (!r.n) return;
      sweeps = r.n;
      removed.push(...(r.removed ?? []).map((p) => path.basename(p)));
      if (stagingNames().includes(live)) sweepsDuringMerge++;
    });

    await waitFor("every job to finish", async () => (await unfinished(ids)) === 0);
    // (unshare ignores SIGTERM while it waits; SIGKILL takes the namespaced child with it.)
    await stop(sweeper, "SIGKILL");
    const row = (await client.job.findUnique({ where: { id: ids[0] } }))!;
    const foreignDeleted = removed.filter((n) => !n.includes("-hhostB-")).length;
    const counts = { foreignDeleted, ownDeadRemoved: removed.filter((n) => n === ownDead).length, sweepsDuringMerge };
    const message = `${JSON.stringify(counts)} removed by host B: ${removed.join(", ")}; job ${row.status} attempt ${row.attempts} ${row.errorCode ?? ""}`;
    assert.equal(foreignDeleted, 0, message);
    assert.ok(sweepsDuringMerge >= 1, `host B swept while host A's staging folder ${live} existed (${sweeps} sweeps in all): ${message}`);
    assert.equal(counts.ownDeadRemoved, 1, message);
    assert.equal(row.status, "done", message);
    assert.equal(row.attempts, 1, `host A's merge ran once, uninterrupted: ${message}`);
    // Host C's folder is left to host C.
    assert.ok(readdirSync(outputDir).includes(foreignDead), message);
    await expectClean(ids, `cross-host sweep ${message}`, [foreignDead]);
    await stopAll();
  });
});
