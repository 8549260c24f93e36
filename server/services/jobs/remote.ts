// Records what scale-out workers report through BullMQ (they never open the
// database): start, progress, completion (with derived rows in the same
// transaction) and failure. Each write checks the job's current status so a
// late or repeated event cannot move a finished job backwards.
import { db, writeTransaction } from "../../db/client";
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

export async function recordCompleted(
  jobId: string,
  ret: { result: unknown; outputPath: string | null; outputSha256: string | null; details: unknown },
): Promise<boolean> {
  const client = await db();
  const row = await client.job.findUnique({ where: { id: jobId } });
  if (!row || row.status === "done") return false;
  const def = jobDefinition(row.type);
  const payload = def?.payload.parse(JSON.parse(row.payload));
  await writeTransaction(`recording job ${jobId} as done`, async (tx) => {
    const r = await tx.job.updateMany({
      where: { id: jobId, status: { in: ["queued", "running"] } },
      data: {
        status: "done",
        progress: 1,
        phase: "done",
        etaSeconds: 0,
        result: JSON.stringify(ret.result),
        outputPath: ret.outputPath,
        outputSha256: ret.outputSha256,
        finishedAt: new Date(),
      },
    });
    if (r.count === 1 && def?.persist) await def.persist(tx, { jobId, experimentId: row.experimentId, payload }, ret.result, ret.details);
  });
  await client.jobLog.create({ data: { jobId, level: "info", message: "done (reported by a scale-out worker)" } });
  await onJobCompleted(jobId).catch((err: Error) => client.jobLog.create({ data: { jobId, level: "warn", message: `after completion: ${err.message}` } }));
  return true;
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
