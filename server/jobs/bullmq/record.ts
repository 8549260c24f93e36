// Records what scale-out workers report through BullMQ (they never open the
// database): start, progress, completion (with derived rows in the same
// transaction) and failure. Each write checks the job's current status so a
// late or repeated event cannot move a finished job backwards.
import { db, writeTransaction } from "../../db/client";
import { isPermanentErrorCode } from "../error-codes";
import { jobDefinition } from "../registry";
import { cancelledData, clamp01, doneData, failedData, FOLLOW_UP_PHASE, startedData, UNFINISHED, type ProgressColumns } from "../state";

export async function recordActive(jobId: string, attempt: number): Promise<void> {
  const client = await db();
  await client.job.updateMany({
    where: { id: jobId, status: { in: UNFINISHED } },
    data: { ...startedData(new Date()), attempts: attempt },
  });
}

/** The worker sends the columns the runner's ProgressMeter computed (and its threads); stored as they are. */
export async function recordProgress(jobId: string, p: ProgressColumns & { threads?: number }): Promise<void> {
  const client = await db();
  await client.job.updateMany({
    where: { id: jobId, status: "running" },
    data: {
      phase: String(p.phase).slice(0, 300),
      progress: clamp01(p.progress),
      tensorsDone: p.tensorsDone,
      tensorsTotal: p.tensorsTotal,
      bytesDone: p.bytesDone,
      bytesTotal: p.bytesTotal,
      bytesPerSec: p.bytesPerSec,
      etaSeconds: p.etaSeconds,
      ...(typeof p.threads === "number" ? { threads: p.threads } : {}),
    },
  });
}

const followUpsRunning = new Set<string>();

export async function recordCompleted(
  jobId: string,
  ret: { result: unknown; outputPath: string | null; outputSha256: string | null; details: unknown },
  onCompleted?: (jobId: string) => Promise<unknown>,
): Promise<boolean> {
  const client = await db();
  const row = await client.job.findUnique({ where: { id: jobId } });
  if (!row || row.status === "done") return false;
  const def = jobDefinition(row.type);
  const payload = def?.payload.parse(JSON.parse(row.payload));
  const recorded = await writeTransaction(`recording job ${jobId} as done`, async (tx) => {
    const r = await tx.job.updateMany({
      where: { id: jobId, status: { in: UNFINISHED } },
      data: { ...doneData(ret), phase: FOLLOW_UP_PHASE },
    });
    if (r.count !== 1) return false; // recorded concurrently (an event and the reconciliation)
    if (def?.persist) await def.persist(tx, { jobId, experimentId: row.experimentId, payload }, ret.result, ret.details);
    await tx.jobLog.create({ data: { jobId, level: "info", message: "done (reported by a scale-out worker)" } });
    return true;
  });
  if (recorded) await runFollowUp(jobId, onCompleted);
  return recorded;
}

/** Runs a done job's follow-up, then marks it finished (safe to repeat: the follow-ups skip what exists). */
export async function runFollowUp(jobId: string, onCompleted?: (jobId: string) => Promise<unknown>): Promise<void> {
  if (followUpsRunning.has(jobId)) return;
  followUpsRunning.add(jobId);
  try {
    const client = await db();
    if (onCompleted) await onCompleted(jobId).catch((err: Error) => client.jobLog.create({ data: { jobId, level: "warn", message: `after completion: ${err.message}` } }));
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
    where: { id: jobId, status: { in: UNFINISHED } },
    data: final
      ? { ...(cancelled ? cancelledData(message) : failedData(code, message)), attempts: attempt }
      // BullMQ holds the retry's backoff; the row only says it will run again.
      : { status: "queued", errorCode: code, errorMessage: message, attempts: attempt, phase: "retrying" },
  });
  await client.jobLog.create({ data: { jobId, level: final && !cancelled ? "error" : "warn", message: `[${code}] ${message}${final ? "" : " (will retry)"}` } });
}

/** Jobs the database still considers unfinished (for reconciliation after a server restart). */
export async function unfinishedJobs(): Promise<{ id: string; type: string; version: number; payload: string; experimentId: string | null; idempotencyKey: string; priority: number; maxAttempts: number; cancelRequested: boolean }[]> {
  const client = await db();
  return client.job.findMany({
    where: { status: { in: UNFINISHED } },
    select: { id: true, type: true, version: true, payload: true, experimentId: true, idempotencyKey: true, priority: true, maxAttempts: true, cancelRequested: true },
  });
}
