// The job state machine, in one place: the row changes each transition
// makes (queued → running → done | failed | cancelled, back to queued on a
// retry, a released or lost lease, or a user's re-run), and how a handler's progress becomes the progress
// columns (throughput and ETA are computed here and nowhere else). Both
// backends (embedded lease queue, BullMQ recorder) write these objects; the
// `where` clauses that fence them (lease token, current status) stay with
// the backend that owns the fencing.
import type { JobProgress } from "./definition";
import type { JobStatus } from "./status";

/** Statuses from which a worker's report may still move the job (older events are ignored). */
export const UNFINISHED: JobStatus[] = ["queued", "running"];

/**
 * Phase of a job recorded done whose server-side follow-up (server/services/follow-ups:
 * the merged model's registration, its evaluation) has not finished: a worker or recorder
 * killed in between leaves it findable, and the follow-up is run again (it is idempotent).
 */
export const FOLLOW_UP_PHASE = "after completion";

export const RETRY_BACKOFF_MAX_MS = 60_000;

/** Exponential backoff before attempt `attempts + 1`: 1 s, 2 s, 4 s … capped at a minute. */
export function retryBackoffMs(attempts: number): number {
  return Math.min(RETRY_BACKOFF_MAX_MS, 1000 * 2 ** Math.max(0, attempts - 1));
}

export function startedData(now: Date) {
  return { status: "running" as const, startedAt: now, phase: "starting", errorCode: null, errorMessage: null };
}

export function doneData(rec: { result: unknown; outputPath?: string | null; outputSha256?: string | null }, now = new Date()) {
  return {
    status: "done" as const,
    progress: 1,
    phase: "done",
    etaSeconds: 0,
    result: JSON.stringify(rec.result),
    outputPath: rec.outputPath ?? null,
    outputSha256: rec.outputSha256 ?? null,
    finishedAt: now,
  };
}

export function failedData(code: string, message: string, now = new Date()) {
  return { status: "failed" as const, errorCode: code, errorMessage: message, finishedAt: now, phase: "failed" };
}

/** A transient failure with attempts left: back to the queue, runnable after the backoff. */
export function retryData(code: string, message: string, attempts: number, now = Date.now()) {
  return { status: "queued" as const, errorCode: code, errorMessage: message, runAfter: new Date(now + retryBackoffMs(attempts)), phase: "retrying" };
}

export function cancelledData(message = "cancelled by the user", now = new Date()) {
  return { status: "cancelled" as const, finishedAt: now, phase: "cancelled", errorCode: "CANCELLED", errorMessage: message };
}

/** A user's retry or forced re-run: the job starts over with a clean record. */
export function requeueData(now = new Date()) {
  return {
    status: "queued" as const,
    attempts: 0,
    progress: 0,
    phase: null,
    tensorsDone: 0,
    bytesDone: 0,
    bytesPerSec: null,
    etaSeconds: null,
    errorCode: null,
    errorMessage: null,
    outputPath: null,
    outputSha256: null,
    result: null,
    cancelRequested: false,
    runAfter: now,
    startedAt: null,
    finishedAt: null,
  };
}

export type ProgressColumns = {
  phase: string;
  progress: number;
  tensorsDone: number;
  tensorsTotal: number;
  bytesDone: number;
  bytesTotal: number;
  bytesPerSec: number | null;
  etaSeconds: number | null;
};

/**
 * Turns a handler's progress reports into the job's progress columns. Throughput
 * is the average since the job started (stable, unlike a per-beat rate); the ETA
 * is the bytes left at that rate. A handler that knows better passes its own.
 */
export class ProgressMeter {
  private readonly startedAt: number;

  constructor(startedAt = Date.now()) {
    this.startedAt = startedAt;
  }

  columns(p: JobProgress, now = Date.now()): ProgressColumns {
    const bytesDone = p.bytesDone ?? 0;
    const bytesTotal = p.bytesTotal ?? 0;
    const elapsed = (now - this.startedAt) / 1000;
    const rate = p.bytesPerSec ?? (elapsed > 0.2 && bytesDone > 0 ? bytesDone / elapsed : null);
    const eta = p.etaSeconds ?? (rate && rate > 0 && bytesTotal > 0 ? Math.max(0, bytesTotal - bytesDone) / rate : null);
    return {
      phase: p.phase,
      progress: clamp01(p.progress),
      tensorsDone: p.tensorsDone ?? 0,
      tensorsTotal: p.tensorsTotal ?? 0,
      bytesDone,
      bytesTotal,
      bytesPerSec: rate,
      etaSeconds: eta,
    };
  }
}

export function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.max(0, Math.min(1, x)) : 0;
}
