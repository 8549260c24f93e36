// Scale-out worker: runs jobs from BullMQ through the one runner. It never
// opens the database — progress goes out as BullMQ progress events, logs as
// job logs, the outcome as the job's return value; the server's recorder
// writes them to the database. BullMQ's job lock plays the lease: a stalled
// job (its worker died) is moved back to the queue, and a stale worker cannot
// complete it. Each process runs one job at a time with its share of the cores
// (MERGESCOPE_WORKERS processes per host split them).
import { mkdir } from "node:fs/promises";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import { sweepStaleStaging } from "../../engine/output";
import { env } from "../../env";
import { defaultScheduler } from "../scheduler";
import { runJob, type RunPort } from "../runner";
import { cancelKey, newRedis, QUEUE_NAME, redisOptions } from "./connection";
import { encodeFailure, type RedisJobData, type RedisJobReturn } from "./wire";

async function processJob(job: Job<RedisJobData>, signal: AbortSignal | undefined, redis: ReturnType<typeof newRedis>, threads: number): Promise<RedisJobReturn> {
  const data = job.data;
  const shutdown = new AbortController();
  signal?.addEventListener("abort", () => shutdown.abort(), { once: true });
  const port: RunPort = {
    pollMs: 500,
    async poll(progress) {
      if (progress) await job.updateProgress({ ...progress, threads } as unknown as object);
      return { cancelRequested: (await redis.exists(cancelKey(data.id))) === 1 };
    },
    log: (level, message) => job.log(`${level}: ${message}`).then(() => {}),
    isLostError: () => false,
  };
  const r = await runJob(
    { id: data.id, type: data.type, version: data.version, payload: data.payload, attempt: job.attemptsMade + 1, idempotencyKey: data.idempotencyKey, experimentId: data.experimentId, resolved: data.resolved },
    port,
    { threads, shutdown: shutdown.signal },
  );
  switch (r.kind) {
    case "done":
      return { result: r.result, outputPath: r.outputPath ?? null, outputSha256: r.outputSha256 ?? null, details: r.details ?? null };
    case "cancelled":
      throw new UnrecoverableError(encodeFailure("CANCELLED", "cancelled by the user"));
    case "failed":
      if (r.permanent) throw new UnrecoverableError(encodeFailure(r.code, r.message));
      throw new Error(encodeFailure(r.code, r.message));
    case "shutdown":
    case "lost":
      // BullMQ moves the job back to the queue (its lock lapses): another worker runs it.
      throw new Error(encodeFailure("JOB_FAILED", "worker closing"));
  }
}

export async function runRedisWorker(): Promise<void> {
  const redis = newRedis();
  const threads = defaultScheduler().limits.cores;
  const worker = new Worker<RedisJobData, RedisJobReturn>(QUEUE_NAME, (job, _token, signal) => processJob(job, signal, redis, threads), {
    connection: redisOptions(),
    concurrency: 1,
    // A dead worker's job is found stalled and re-queued within ~15 s.
    lockDuration: 10_000,
    stalledInterval: 5_000,
    maxStalledCount: 2,
  });
  worker.on("error", (err) => console.error(`[redis worker] ${err.message}`));
  // Staging folders of crashed workers on this host are removed (live ones are left alone).
  const sweep = () => sweepStaleStaging(env().outputDir).catch((err: Error) => console.error(`[redis worker] sweep: ${err.message}`));
  await mkdir(env().outputDir, { recursive: true });
  await sweep();
  const sweeper = setInterval(() => void sweep(), 5000);
  console.log(`[redis worker ${process.pid}] consuming ${QUEUE_NAME} with ${threads} engine thread(s) per job`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  clearInterval(sweeper);
  await worker.close();
  redis.disconnect();
}
