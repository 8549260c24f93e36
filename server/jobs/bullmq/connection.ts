// Redis connection settings for BullMQ (scale-out mode, REDIS_URL set).
import type { ConnectionOptions } from "bullmq";
import { Redis } from "ioredis";
import { env } from "../../env";

export const QUEUE_NAME = "mergescope-jobs";

/** Cancellation requests travel through a Redis key the running worker polls. */
export function cancelKey(jobId: string): string {
  return `mergescope:cancel:${jobId}`;
}

export function redisUrl(): string {
  const url = env().REDIS_URL;
  if (!url) throw new Error("REDIS_URL is not set: scale-out mode needs a Redis server (see README, Scale-out)");
  return url;
}

/**
 * Connection options for BullMQ. Handing BullMQ options (not a client) lets
 * each Queue/Worker/QueueEvents own and close its connections.
 * BullMQ needs maxRetriesPerRequest: null.
 */
export function redisOptions(): ConnectionOptions {
  return { url: redisUrl(), maxRetriesPerRequest: null };
}

/** A plain client for our own keys (cancellation flags); the caller disconnects it. */
export function newRedis(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: null });
}
