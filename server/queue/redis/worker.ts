// Scale-out worker: runs jobs from BullMQ. It never opens the database —
// progress goes out as BullMQ progress events, logs as job logs, the outcome
// as the job's return value; the server's recorder writes them to the
// database. BullMQ's job lock plays the lease: a stalled job (its worker died)
// is moved back to the queue, and a stale worker cannot complete it.
import { mkdir } from "node:fs/promises";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import { sweepStaleStaging } from "../../engine/output";
import { env } from "../../env";
import type { JobProgress } from "../../jobs/definition";
import { jobErrorCode } from "../../jobs/definition";
import { jobDefinition } from "../../jobs/registry";
import { isPermanentErrorCode } from "../../services/jobs/status";
import { cancelKey, newRedis, QUEUE_NAME, redisOptions } from "./connection";
import type { RedisJobData } from "./producer";

export interface RedisJobReturn {
  result: unknown;
  outputPath: string | null;
  outputSha256: string | null;
  details: unknown;
}

/** Failure reasons carry the stable code first: "[CODE] message". */
export function encodeFailure(code: string, message: string): string {
  return `[${code}] ${message}`;
}

export function decodeFailure(reason: string): { code: string; message: string } {
  const m = /^\[([A-Z0-9_]+)\] ([\s\S]*)$/.exec(reason);
  return m ? { code: m[1]!, message: m[2]! } : { code: "JOB_FAILED", message: reason };
}

const codeOf = jobErrorCode;

async function processJob(job: Job<RedisJobData>, signal: AbortSignal | undefined, redis: ReturnType<typeof newRedis>): Promise<RedisJobReturn> {
  const data = job.data;
  const def = jobDefinition(data.type);
  if (!def || def.version !== data.version) throw new UnrecoverableError(encodeFailure("JOB_TYPE_UNKNOWN", `no handler for ${data.type} v${data.version}`));
  const parsed = def.payload.safeParse(data.payload);
  if (!parsed.success)
    throw new UnrecoverableError(encodeFailure("JOB_PAYLOAD_INVALID", parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")));

  const controller = new AbortController();
  let cancelled = false;
  signal?.addEventListener("abort", () => controller.abort(new Error("worker closing")), { once: true });
  let latest: JobProgress | null = null;
  let sent: JobProgress | null = null;
  const timer = setInterval(() => {
    void (async () => {
      if ((await redis.exists(cancelKey(data.id))) === 1 && !cancelled) {
        cancelled = true;
        controller.abort(new Error("cancelled by the user"));
      }
      if (latest && latest !== sent) {
        sent = latest;
        await job.updateProgress(latest as unknown as object);
      }
    })().catch(() => {});
  }, 500);
  try {
    await job.log(`attempt ${job.attemptsMade + 1} started`);
    const outcome = await def.handler(parsed.data, {
      jobId: data.id,
      attempt: job.attemptsMade + 1,
      idempotencyKey: data.idempotencyKey,
      experimentId: data.experimentId,
      signal: controller.signal,
      dataDir: env().dataDir,
      outputDir: env().outputDir,
      resolved: data.resolved,
      reportProgress: (p) => {
        latest = p;
      },
      log: (level, message) => void job.log(`${level}: ${message}`).catch(() => {}),
    });
    return {
      result: def.result.parse(outcome.result),
      outputPath: outcome.outputPath ?? null,
      outputSha256: outcome.outputSha256 ?? null,
      details: outcome.details ?? null,
    };
  } catch (err) {
    const code = cancelled ? "CANCELLED" : codeOf(err);
    const message = cancelled ? "cancelled by the user" : err instanceof Error ? err.message : String(err);
    if (cancelled || isPermanentErrorCode(code)) throw new UnrecoverableError(encodeFailure(code, message));
    throw new Error(encodeFailure(code, message));
  } finally {
    clearInterval(timer);
  }
}

export async function runRedisWorker(): Promise<void> {
  const redis = newRedis();
  const worker = new Worker<RedisJobData, RedisJobReturn>(QUEUE_NAME, (job, _token, signal) => processJob(job, signal, redis), {
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
  console.log(`[redis worker ${process.pid}] consuming ${QUEUE_NAME}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  clearInterval(sweeper);
  await worker.close();
  redis.disconnect();
}
