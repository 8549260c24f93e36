// Records what scale-out workers report through BullMQ (they never open the
// database): start, progress, completion (with derived rows in the same
// transaction) and failure. Each write checks the job's current status so a
// late or repeated event cannot move a finished job backwards.
import { db } from "../../db/client";
import { isPermanentErrorCode } from "../error-codes";
import { jobDefinition } from "../registry";
import { cancelledData, clamp01, doneData, failedData, startedData, UNFINISHED, type ProgressColumns } from "../state";

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
  await client.$transaction(async (tx) => {
    const r = await tx.job.updateMany({
      where: { id: jobId, status: { in: UNFINISHED } },
      data: doneData(ret),
    });
    if (r.count === 1 && def?.persist) await def.persist(tx, { jobId, experimentId: row.experimentId, payload }, ret.result, ret.details);
  });
  await client.jobLog.create({ data: { jobId, level: "info", message: "done (reported by a scale-out worker)" } });
  if (onCompleted) await onCompleted(jobId).catch((err: Error) => client.jobLog.create({ data: { jobId, level: "warn", message: `after completion: ${err.message}` } }));
  return true;
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
