// Server side of scale-out mode: jobs recorded in the database are also added
// to the BullMQ queue (jobId = our job id, so adds are idempotent), and
// cancellations are published for the worker that runs the job.
import { Queue } from "bullmq";
import type { JobBackend } from "../backend";
import { jobDefinition } from "../registry";
import { cancelKey, newRedis, QUEUE_NAME, redisOptions } from "./connection";
import type { RedisJobData } from "./wire";


let queue: Queue | undefined;
let redis: ReturnType<typeof newRedis> | undefined;

export function redisQueue(): Queue {
  queue ??= new Queue(QUEUE_NAME, { connection: redisOptions() });
  return queue;
}

function control() {
  redis ??= newRedis();
  return redis;
}

/** Our priorities are -100..100 (higher first); BullMQ's are 1..2^21 (lower first, 0 = none). */
export function bullPriority(priority: number): number {
  return 101 - Math.max(-100, Math.min(100, priority)) + 1;
}

export async function addRedisJob(data: RedisJobData, opts: { priority: number; maxAttempts: number }): Promise<void> {
  const q = redisQueue();
  const existing = await q.getJob(data.id);
  if (existing) {
    const state = await existing.getState();
    if (state === "completed" || state === "failed") await existing.remove();
    else return; // already waiting or active
  }
  await control().del(cancelKey(data.id));
  const def = jobDefinition(data.type);
  const resolved = def?.resolve ? await def.resolve(def.payload.parse(data.payload)) : undefined;
  await q.add(data.type, { ...data, resolved }, {
    jobId: data.id,
    attempts: opts.maxAttempts,
    backoff: { type: "exponential", delay: 1000 },
    priority: bullPriority(opts.priority),
    removeOnComplete: { age: 7 * 24 * 3600 },
    removeOnFail: { age: 30 * 24 * 3600 },
  });
}

export async function cancelRedisJob(jobId: string): Promise<void> {
  await control().set(cancelKey(jobId), "1", "EX", 7 * 24 * 3600);
  const job = await redisQueue().getJob(jobId);
  if (job && ["waiting", "delayed", "prioritized", "waiting-children"].includes(await job.getState())) await job.remove();
}

export async function closeRedisProducer(): Promise<void> {
  await queue?.close();
  redis?.disconnect();
  queue = undefined;
  redis = undefined;
}

export const bullmqBackend: JobBackend = {
  name: "bullmq",
  submit: (row) =>
    addRedisJob(
      { id: row.id, type: row.type, version: row.version, payload: JSON.parse(row.payload) as unknown, experimentId: row.experimentId, idempotencyKey: row.idempotencyKey },
      { priority: row.priority, maxAttempts: row.maxAttempts },
    ),
  cancel: (jobId) => cancelRedisJob(jobId),
  remove: async (jobId) => {
    await (await redisQueue().getJob(jobId))?.remove();
  },
};
