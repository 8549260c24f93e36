// A job type is declared once: type, version, zod schemas for its payload and
// result, and a handler. Payloads are validated at enqueue and again at
// dequeue (a queued payload may predate a schema change: then the job fails
// with JOB_PAYLOAD_INVALID instead of running on bad input).
import type { z } from "zod";
import type { DbTx } from "../db/client";
import { AppError } from "../errors";

export interface JobProgress {
  phase: string;
  progress: number; // 0..1
  tensorsDone?: number;
  tensorsTotal?: number;
  bytesDone?: number;
  bytesTotal?: number;
  bytesPerSec?: number | null;
  etaSeconds?: number | null;
}

export interface JobContext {
  jobId: string;
  attempt: number;
  idempotencyKey: string;
  experimentId: string | null;
  /** Aborted when the job is cancelled or the worker lost its lease. */
  signal: AbortSignal;
  dataDir: string;
  /** Folder for published merge outputs (shared by all workers). */
  outputDir: string;
  /** What the definition's `resolve` returned for this job (server-side configuration), else undefined. */
  resolved: unknown;
  /** Engine threads the scheduler gave this job (server/jobs/scheduler.ts). */
  threads: number;
  reportProgress(p: JobProgress): void;
  log(level: "info" | "warn" | "error", message: string): void;
}

export interface JobOutcome<TResult> {
  result: TResult;
  /** Published output (merge jobs): recorded together with the done status. */
  outputPath?: string;
  outputSha256?: string;
  /** Bulky data for `persist` (e.g. per-tensor statistics); not stored in the job row. */
  details?: unknown;
}

export interface JobResources {
  /** Uses engine threads (merges, analyses): the scheduler shares the cores among such jobs. */
  cpuBound: boolean;
  /** Estimated peak memory of the job (bytes). */
  workingSetBytes: number;
}

export interface JobDefinition<TPayload = unknown, TResult = unknown> {
  type: string;
  version: number;
  payload: z.ZodType<TPayload>;
  result: z.ZodType<TResult>;
  /** Stable identity of the work (inputs included) for idempotent enqueues. */
  identity(payload: TPayload): Promise<unknown> | unknown;
  /**
   * Server-side configuration the handler needs, looked up by what the payload names
   * (an evaluation template by id): by the embedded worker before it runs the job, by
   * the server when it hands the job to Redis (scale-out workers never open the database).
   */
  resolve?(payload: TPayload): Promise<unknown>;
  /**
   * What running it costs, for the scheduler: engine jobs are CPU-bound and hold a working set
   * bounded by their largest tensor (server/engine/working-set.ts). Without it: light, one thread.
   */
  resources?(payload: TPayload): Promise<JobResources>;
  handler(payload: TPayload, ctx: JobContext): Promise<JobOutcome<TResult>>;
  /** Records derived rows (a service function) in the transaction that marks the job done. */
  persist?(tx: DbTx, job: { jobId: string; experimentId: string | null; payload: TPayload }, result: TResult, details: unknown): Promise<void>;
}

export function defineJob<TPayload, TResult>(def: JobDefinition<TPayload, TResult>): JobDefinition<TPayload, TResult> {
  return def;
}

/** Error that must not be retried (bad input): the job fails at once with this code. */
export class PermanentJobError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The code a failed job is recorded with (decides, with isPermanentErrorCode, whether it retries). */
export function jobErrorCode(err: unknown): string {
  if (err instanceof PermanentJobError) return err.code;
  // A refused path or file says which rule refused it (PATH_NOT_ALLOWED, FILE_TOO_LARGE, …).
  if (err instanceof AppError && err.engineCode) return err.engineCode;
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && code ? code : "JOB_FAILED";
}
