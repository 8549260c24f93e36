// The embedded queue's worker loop: claims jobs from the SQLite queue, asks
// the scheduler where each may run (threads, memory), and runs them through
// the one runner — several at once when cores and the memory budget allow.
// SIGTERM hands running jobs back to the queue; a crash is recovered by the
// lease reaper (any worker's).
import { setMaxListeners } from "node:events";
import os from "node:os";
import { mkdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { sweepStaleStaging } from "../../engine/output";
import { env } from "../../env";
import type { JobResources } from "../definition";
import { prepareJob, runJob, type RunPort } from "../runner";
import { waitAtMost } from "./wait";
import { defaultScheduler, gib, type Placement, type Scheduler } from "../scheduler";
import {
  appendJobLog,
  claimJob,
  claimStaleFollowUps,
  completeJob,
  countRunnable,
  failJob,
  finishFollowUp,
  finishResumedFollowUp,
  heartbeat,
  jobLogWriter,
  LeaseLostError,
  makeWorkerId,
  markCancelled,
  reapExpiredLeases,
  recordPlacement,
  releaseJob,
  noteWaiting,
  peekJob,
  type ClaimedJob,
} from "./lease";

// An idle worker looks for work this often: a queued job waits ~50 ms for its claim on average.
const IDLE_POLL_MS = 100;
const REAP_EVERY_MS = 2000;
const HEARTBEAT_MS = 1000;
/** A follow-up still pending this long after completion lost its worker (it normally takes well under a second). */
const FOLLOW_UP_GRACE_MS = 30_000;
const LIGHT_JOB: JobResources = { cpuBound: false, workingSetBytes: 128 * 2 ** 20 };

export type RunOutcome = "done" | "failed" | "queued" | "cancelled" | "lease-lost" | "released";

export interface WorkerOptions {
  /** Stop when the queue is empty (tests, `mergescope worker --once`). */
  once?: boolean;
  /** What follows a completed job on the server side (registering a merged model …): wired by the entrypoint. */
  onCompleted?: (jobId: string) => Promise<unknown>;
  scheduler?: Scheduler;
}

function portFor(job: ClaimedJob, logs: ReturnType<typeof jobLogWriter>): RunPort {
  return {
    pollMs: HEARTBEAT_MS,
    poll: (progress) => heartbeat(job.id, job.leaseToken, progress),
    log: async (level, message) => logs.write(level, message),
    isLostError: (err) => err instanceof LeaseLostError,
  };
}

const ONE_THREAD: Placement = { threads: 1, workingSetBytes: 0 };

/** Runs one claimed job with its placement and records the outcome, fenced by the lease. */
export async function runClaimedJob(
  job: ClaimedJob,
  shutdown: AbortSignal,
  { placement = ONE_THREAD, onCompleted }: { placement?: Placement; onCompleted?: WorkerOptions["onCompleted"] } = {},
): Promise<RunOutcome> {
  const token = job.leaseToken;
  const logs = jobLogWriter(job.id, token);
  await recordPlacement(job.id, token, placement).catch(() => {});
  const r = await runJob(
    { id: job.id, type: job.type, version: job.version, payload: JSON.parse(job.payload) as unknown, attempt: job.attempts, idempotencyKey: job.idempotencyKey, experimentId: job.experimentId },
    portFor(job, logs),
    { threads: placement.threads, shutdown },
  );
  await logs.flush(); // the run's lines, written before its outcome
  try {
    switch (r.kind) {
      case "done":
        await completeJob(job.id, token, {
          result: r.result,
          outputPath: r.outputPath,
          outputSha256: r.outputSha256,
          persist: r.def.persist ? (tx) => r.def.persist!(tx, { jobId: job.id, experimentId: job.experimentId, payload: r.payload }, r.result, r.details) : undefined,
          followUp: onCompleted !== undefined,
        });
        await appendJobLog(job.id, null, "info", "done");
        if (onCompleted) {
          await onCompleted(job.id).catch((err: Error) => appendJobLog(job.id, null, "warn", `after completion: ${err.message}`));
          await finishFollowUp(job.id);
        }
        return "done";
      case "failed":
        await appendJobLog(job.id, token, "error", `[${r.code}] ${r.message}`);
        return await failJob(job.id, token, r.code, r.message);
      case "cancelled":
        await markCancelled(job.id, token);
        await appendJobLog(job.id, null, "info", "cancelled; partial output removed");
        return "cancelled";
      case "shutdown":
        await releaseJob(job.id, token);
        await appendJobLog(job.id, null, "warn", "worker stopped; job handed back to the queue");
        return "released";
      case "lost":
        return "lease-lost";
    }
  } catch (err) {
    if (err instanceof LeaseLostError) return "lease-lost";
    throw err;
  }
}

/** What the claimed job needs; a payload that cannot be read is light (the runner fails it at once). */
async function resourcesOf(job: Pick<ClaimedJob, "type" | "version" | "payload">): Promise<JobResources> {
  const prepared = prepareJob({ type: job.type, version: job.version, payload: JSON.parse(job.payload) as unknown });
  if (!prepared.ok || !prepared.def.resources) return LIGHT_JOB;
  // An unreadable model is the handler's error to report (with its code): schedule it as light.
  return prepared.def.resources(prepared.payload).catch(() => LIGHT_JOB);
}

export async function runWorker(opts: WorkerOptions = {}): Promise<void> {
  const workerId = makeWorkerId(os.hostname(), process.pid);
  const scheduler = opts.scheduler ?? defaultScheduler();
  const shutdown = new AbortController();
  const stop = () => shutdown.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  const { cores, memoryBudgetBytes, maxConcurrent } = scheduler.limits;
  // Every running job listens for the shutdown (and the loop's one wait): maxConcurrent + 1 listeners is expected, not a leak.
  setMaxListeners(maxConcurrent + 2, shutdown.signal);
  console.log(`[worker ${workerId}] started: ${cores} core(s), memory budget ${gib(memoryBudgetBytes)}, up to ${maxConcurrent} job(s) at once`);
  const inFlight = new Map<string, Promise<void>>();
  // Resolved when a running job finishes: the loop waits on it instead of polling when it has no room.
  let wake: () => void = () => {};
  let finished = new Promise<void>((r) => (wake = r));
  let lastReap = 0;
  const mergesDir = env().outputDir;
  mkdirSync(mergesDir, { recursive: true });

  while (!shutdown.signal.aborted) {
    try {
      if (Date.now() - lastReap > REAP_EVERY_MS) {
        lastReap = Date.now();
        const n = await reapExpiredLeases();
        if (n > 0) console.log(`[worker ${workerId}] re-queued ${n} job(s) of lost workers`);
        // Staging folders of dead workers on this host (a crash mid-merge) are removed; live ones are left alone.
        await sweepStaleStaging(mergesDir);
        // A worker that died between a job's completion and its follow-up (registering the merged model …).
        if (opts.onCompleted) {
          for (const id of await claimStaleFollowUps(workerId, FOLLOW_UP_GRACE_MS)) {
            console.log(`[worker ${workerId}] resuming the interrupted follow-up of job ${id}`);
            await opts.onCompleted(id).catch((err: Error) => appendJobLog(id, null, "warn", `after completion: ${err.message}`));
            await finishResumedFollowUp(id);
          }
        }
      }
      if (!scheduler.hasRoom()) {
        await waitAtMost(finished, REAP_EVERY_MS, shutdown.signal);
        continue;
      }
      const next = await peekJob();
      if (!next) {
        if (opts.once && inFlight.size === 0) break;
        await waitAtMost(finished, IDLE_POLL_MS, shutdown.signal);
        continue;
      }
      // Decide before claiming: a job that does not fit stays queued, untouched but for its reason.
      const resources = await resourcesOf(next);
      const decision = scheduler.decide(resources, await countRunnable());
      if (!decision.start) {
        await noteWaiting(next.id, decision.reason);
        await waitAtMost(finished, REAP_EVERY_MS, shutdown.signal);
        continue;
      }
      const job = await claimJob(workerId, undefined, next.id);
      if (!job) continue; // another worker took it first: look again
      scheduler.start(job.id, decision.placement, resources.cpuBound);
      console.log(
        `[worker ${workerId}] ${job.type} ${job.id} (attempt ${job.attempts}; ${decision.placement.threads} thread(s), ~${gib(decision.placement.workingSetBytes)})`,
      );
      const run = runClaimedJob(job, shutdown.signal, { placement: decision.placement, onCompleted: opts.onCompleted })
        .then((outcome) => console.log(`[worker ${workerId}] ${job.type} ${job.id}: ${outcome}`))
        .catch((err: Error) => console.error(`[worker ${workerId}] ${job.type} ${job.id}: recording the outcome failed: ${err.message}`))
        .finally(() => {
          scheduler.finish(job.id);
          inFlight.delete(job.id);
          wake();
          finished = new Promise<void>((r) => (wake = r));
        });
      inFlight.set(job.id, run);
    } catch (err) {
      // The queue itself failed (e.g. database locked for too long): keep the worker alive.
      console.error(`[worker ${workerId}] queue error: ${(err as Error).message}`);
      await sleep(1000, undefined, { signal: shutdown.signal }).catch(() => {});
    }
  }
  await Promise.allSettled(inFlight.values());
  console.log(`[worker ${workerId}] stopped`);
}
