// Server-side recorder for scale-out mode: turns BullMQ events into database
// writes, and on start reconciles the database with Redis so nothing is lost
// while the server was down (finished jobs are recorded from BullMQ's stored
// return values, running ones as running, interrupted follow-ups are finished;
// unfinished jobs missing from Redis are added again).
import { QueueEvents } from "bullmq";
import type { ProgressColumns } from "../state";
import { pendingFollowUps, recordActive, recordCompleted, recordFailed, recordProgress, runFollowUp, unfinishedJobs } from "./record";
import { QUEUE_NAME, redisOptions } from "./connection";
import { addRedisJob, redisQueue } from "./producer";
import { decodeFailure, type RedisJobReturn } from "./wire";

type OnCompleted = (jobId: string) => Promise<unknown>;

async function recordFromQueue(jobId: string, onCompleted?: OnCompleted): Promise<void> {
  const job = await redisQueue().getJob(jobId);
  if (!job) return;
  const state = await job.getState();
  if (state === "completed") await recordCompleted(jobId, job.returnvalue as RedisJobReturn, onCompleted);
  else if (state === "failed") {
    const { code, message } = decodeFailure(job.failedReason ?? "");
    await recordFailed(jobId, code, message, false, job.attemptsMade);
  }
}

export async function reconcile(onCompleted?: OnCompleted): Promise<{ readded: number; recorded: number; followUps: number }> {
  let readded = 0;
  let recorded = 0;
  // Recorded done, but the recorder died before registering the merged model (or queueing its evaluation).
  const followUps = await pendingFollowUps();
  for (const id of followUps) await runFollowUp(id, onCompleted);
  for (const j of await unfinishedJobs()) {
    const job = await redisQueue().getJob(j.id);
    if (!job) {
      if (j.cancelRequested) {
        await recordFailed(j.id, "CANCELLED", "cancelled by the user", false, 0);
        continue;
      }
      await addRedisJob(
        { id: j.id, type: j.type, version: j.version, payload: JSON.parse(j.payload), experimentId: j.experimentId, idempotencyKey: j.idempotencyKey },
        { priority: j.priority, maxAttempts: j.maxAttempts },
      );
      readded++;
    } else {
      const state = await job.getState();
      if (state === "completed" || state === "failed") {
        await recordFromQueue(j.id, onCompleted);
        recorded++;
      } else if (state === "active") {
        // Started while no recorder listened: without this the row says queued (and drops progress) until it ends.
        await recordActive(j.id, job.attemptsMade + 1);
      }
    }
  }
  return { readded, recorded, followUps: followUps.length };
}

/** `onCompleted`: what follows a completed job on the server side (wired by the entrypoint). */
export async function runRecorder(onCompleted?: OnCompleted): Promise<() => Promise<void>> {
  const events = new QueueEvents(QUEUE_NAME, { connection: redisOptions() });
  const safe = (label: string, p: Promise<unknown>) => p.catch((err: Error) => console.error(`[recorder] ${label}: ${err.message}`));
  events.on("active", ({ jobId }) => {
    void safe(
      "active",
      redisQueue()
        .getJob(jobId)
        .then((job) => recordActive(jobId, (job?.attemptsMade ?? 0) + 1)),
    );
  });
  events.on("progress", ({ jobId, data }) => void safe("progress", recordProgress(jobId, data as unknown as ProgressColumns)));
  events.on("completed", ({ jobId, returnvalue }) => {
    const ret = (typeof returnvalue === "string" ? JSON.parse(returnvalue) : returnvalue) as RedisJobReturn;
    void safe("completed", recordCompleted(jobId, ret, onCompleted));
  });
  events.on("failed", ({ jobId, failedReason }) => {
    void safe(
      "failed",
      redisQueue()
        .getJob(jobId)
        .then(async (job) => {
          const { code, message } = decodeFailure(failedReason);
          const attempts = job?.opts.attempts ?? 1;
          const made = job?.attemptsMade ?? attempts;
          const state = job ? await job.getState() : "failed";
          await recordFailed(jobId, code, message, state !== "failed" && made < attempts, made);
        }),
    );
  });
  await events.waitUntilReady();
  const r = await reconcile(onCompleted);
  console.log(`[recorder] listening on ${QUEUE_NAME}; reconciled: ${r.readded} re-added, ${r.recorded} recorded, ${r.followUps} follow-ups finished`);
  return async () => {
    await events.close();
  };
}
