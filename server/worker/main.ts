// Worker process entry (embedded queue): claims jobs from the SQLite queue and
// runs them with the native engine. Started by `npm start` (one per core,
// MERGESCOPE_WORKERS) or by hand with `mergescope worker`. SIGTERM hands the
// current job back to the queue; a crash is recovered by the lease reaper.
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { mkdirSync } from "node:fs";
import { closeDb } from "../db/client";
import { sweepStaleStaging } from "../engine/output";
import { env } from "../env";
import { claimJob, makeWorkerId, reapExpiredLeases } from "../services/jobs/lease";
import { runClaimedJob } from "./run-job";

const IDLE_POLL_MS = 300;
const REAP_EVERY_MS = 2000;

export async function runWorker(opts: { once?: boolean } = {}): Promise<void> {
  const workerId = makeWorkerId(os.hostname(), process.pid);
  const shutdown = new AbortController();
  const stop = () => shutdown.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  console.log(`[worker ${workerId}] started`);
  let lastReap = 0;
  const mergesDir = env().outputDir;
  mkdirSync(mergesDir, { recursive: true });
  while (!shutdown.signal.aborted) {
    try {
      if (Date.now() - lastReap > REAP_EVERY_MS) {
        lastReap = Date.now();
        const n = await reapExpiredLeases();
        if (n > 0) console.log(`[worker ${workerId}] re-queued ${n} job(s) of lost workers`);
        // Staging folders of dead workers (a crash mid-merge) are removed; live ones are left alone.
        await sweepStaleStaging(mergesDir);
      }
      const job = await claimJob(workerId);
      if (!job) {
        if (opts.once) break;
        await sleep(IDLE_POLL_MS, undefined, { signal: shutdown.signal }).catch(() => {});
        continue;
      }
      console.log(`[worker ${workerId}] ${job.type} ${job.id} (attempt ${job.attempts})`);
      const outcome = await runClaimedJob(job, shutdown.signal);
      console.log(`[worker ${workerId}] ${job.type} ${job.id}: ${outcome}`);
    } catch (err) {
      // The queue itself failed (e.g. database locked for too long): keep the worker alive.
      console.error(`[worker ${workerId}] queue error: ${(err as Error).message}`);
      await sleep(1000, undefined, { signal: shutdown.signal }).catch(() => {});
    }
  }
  await closeDb();
  console.log(`[worker ${workerId}] stopped`);
}

/** Scale-out mode (REDIS_URL) consumes BullMQ and never opens the database; otherwise the embedded queue. */
export async function runConfiguredWorker(): Promise<void> {
  if (env().REDIS_URL) {
    const { runRedisWorker } = await import("../queue/redis/worker");
    await runRedisWorker();
    process.exit(0);
  }
  await runWorker();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runConfiguredWorker();
}
