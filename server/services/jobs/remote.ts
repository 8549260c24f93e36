// Records what scale-out workers report through BullMQ (they never open the
// database): start, progress, completion (with derived rows in the same
// transaction) and failure. Each write checks the job's current status so a
// late or repeated event cannot move a finished job backwards.
import { db } from "../../db/client";
import type { JobProgress } from "../../jobs/definition";
import { jobDefinition } from "../../jobs/registry";
import { onJobCompleted } from "./after-complete";
import { isPermanentErrorCode } from "./status";

export async function recordActive(jobId: string, attempt: number): Promise<void> {
  const client = await db();
  await client.job.updateMany({
    where: { id: jobId, status: { in: ["queued", "running"] } },
    data: { status: "running", attempts: attempt, startedAt: new Date(), phase: "starting", errorCode: null, errorMessage: null },
  });
}

export async function recordProgress(jobId: string, p: JobProgress): Promise<void> {
  const client = await db();
  await client.job.updateMany({
    where: { id: jobId, status: "running" },
    data: {
      phase: p.phase,
      progress: Math.max(0, Math.min(1, p.progress)),
      tensorsDone: p.tensorsDone ?? 0,
      tensorsTotal: p.tensorsTotal ?? 0,
      bytesDone: p.bytesDone ?? 0,
      bytesTotal: p.bytesTotal ?? 0,
      bytesPerSec: p.bytesPerSec ?? null,
      etaSeconds: p.etaSeconds ?? null,
    },
  });
}

/**
 * Phase of a job recorded done whose follow-up (after-complete.ts: the merged model's
 * registration, its evaluation) has not finished: a recorder killed in between finds it
 * again at its next start (pendingFollowUps) instead of losing the registration.
 */
const FOLLOW_UP_PHASE = "after completion";
const followUpsRunning = new Set<string>();

export async function recordCompleted(
  jobId: string,
  ret: { result: unknown; outputPath: string | null; outputSha256: string | null; details: unknown },
): Promise<boolean> {
  const client = await db();
  const row = await client.job.findUnique({ where: { id: jobId } });
  if (!row || row.status === "done") return false;
  const def = jobDefinition(row.type);
  const payload = def?.payload.parse(JSON.parse(row.payload));
  const recorded = await client.$transaction(async (tx) => {
    const r = await tx.job.updateMany({
      where: { id: jobId, status: { in: ["queued", "running"] } },
      data: {
        status: "done",
        progress: 1,
        phase: FOLLOW_UP_PHASE,
        etaSeconds: 0,
        result: JSON.stringify(ret.result),
        outputPath: ret.outputPath,
        outputSha256: ret.outputSha256,
        finishedAt: new Date(),
      },
    });
    if (r.count !== 1) return false; // recorded concurrently (an event and the reconciliation)
    if (def?.persist) await def.persist(tx, { jobId, experimentId: row.experimentId, payload }, ret.result, ret.details);
    await tx.jobLog.create({ data: { jobId, level: "info", message: "done (reported by a scale-out worker)" } });
    return true;
  });
  if (recorded) await runFollowUp(jobId);
  return recorded;
}

/** Runs a done job's follow-up, then marks it finished (safe to repeat: after-complete.ts skips what exists). */
export async function runFollowUp(jobId: string): Promise<void> {
  if (followUpsRunning.has(jobId)) return;
  followUpsRunning.add(jobId);
  try {
    const client = await db();
    await onJobCompleted(jobId).catch((err: Error) => client.jobLog.create({ data: { jobId, level: "warn", message: `after completion: ${err.message}` } }));
    await client.job.updateMany({ where: { id: jobId, status: "done", phase: FOLLOW_UP_PHASE }, data: { phase: "done" } });
  } finally {
    followUpsRunning.delete(jobId);
  }
}

/** Done jobs whose follow-up never finished (their recorder died in between). */
export async function pendingFollowUps(): Promise<string[]> {
  const client = await db();
  const rows = await client.job.findMany({ where: { status: "done", phase: FOLLOW_UP_PHASE }, select: { id: true } });
  return rows.map((r) => r.id);
}

export async function recordFailed(jobId: string, code: string, message: string, willRetry: boolean, attempt: number): Promise<void> {
  const client = await db();
  const cancelled = code === "CANCELLED";
  const final = cancelled || !willRetry || isPermanentErrorCode(code);
  await client.job.updateMany({
    where: { id: jobId, status: { in: ["queued", "running"] } },
    data: final
      ? { status: cancelled ? "cancelled" : "failed", errorCode: code, errorMessage: message, finishedAt: new Date(), attempts: attempt, phase: cancelled ? "cancelled" : "failed" }
      : { status: "queued", errorCode: code, errorMessage: message, attempts: attempt, phase: "retrying" },
  });
  await client.jobLog.create({ data: { jobId, level: final && !cancelled ? "error" : "warn", message: `[${code}] ${message}${final ? "" : " (will retry)"}` } });
}

/** Jobs the database still considers unfinished (for reconciliation after a server restart). */
export async function unfinishedJobs(): Promise<{ id: string; type: string; version: number; payload: string; experimentId: string | null; idempotencyKey: string; priority: number; maxAttempts: number; cancelRequested: boolean }[]> {
  const client = await db();
  return client.job.findMany({
    where: { status: { in: ["queued", "running"] } },
    select: { id: true, type: true, version: true, payload: true, experimentId: true, idempotencyKey: true, priority: true, maxAttempts: true, cancelRequested: true },
  });
}
