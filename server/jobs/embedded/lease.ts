// The embedded queue's worker side: atomic claim, lease heartbeat, and
// completion / failure — every write fenced by the lease token, so a worker
// presumed dead (its lease expired and the job was claimed again) can no
// longer change the job. Claiming is a compare-and-set on status, which
// SQLite serializes: two workers can never hold the same job.
import os from "node:os";
import { db, writeTransaction, type DbTx } from "../../db/client";
import { isPermanentErrorCode } from "../error-codes";
import { cancelledData, doneData, failedData, FOLLOW_UP_PHASE, retryData, type ProgressColumns } from "../state";

export const LEASE_MS = 15_000;

/** Worker ids are "<hostname>/<pid>/<random>" so a local owner's death is detectable at once. */
export function makeWorkerId(hostname: string, pid: number): string {
  return `${hostname}/${pid}/${Math.random().toString(36).slice(2, 8)}`;
}

function ownerIsDeadLocalProcess(owner: string | null): boolean {
  if (!owner) return false;
  const [host, pidText] = owner.split("/");
  if (host !== os.hostname() || !pidText) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

export interface ClaimedJob {
  id: string;
  type: string;
  version: number;
  payload: string;
  attempts: number;
  maxAttempts: number;
  leaseToken: number;
  idempotencyKey: string;
  experimentId: string | null;
}

export class LeaseLostError extends Error {
  readonly code = "LEASE_LOST";
  constructor(jobId: string) {
    super(`job ${jobId}: lease lost (the job was re-queued or cancelled); this worker's result is discarded`);
  }
}

/** Claims the highest-priority runnable job, or returns null when there is none. */
const NEXT_ORDER = [{ priority: "desc" as const }, { createdAt: "asc" as const }, { id: "asc" as const }];

/** The job a worker would claim next, without claiming it: the scheduler decides first (no claim/unclaim churn). */
export async function peekJob(): Promise<{ id: string; type: string; version: number; payload: string } | null> {
  const client = await db();
  return client.job.findFirst({
    where: { status: "queued", runAfter: { lte: new Date() }, cancelRequested: false },
    orderBy: NEXT_ORDER,
    select: { id: true, type: true, version: true, payload: true },
  });
}

/** A job that waits for room (memory, cores) says why on its page; written only when the reason changes. */
export async function noteWaiting(jobId: string, reason: string): Promise<void> {
  const client = await db();
  const phase = `waiting: ${reason}`.slice(0, 300);
  // (phase <> x is NULL for a NULL phase in SQL: test for it on its own.)
  await client.job.updateMany({ where: { id: jobId, status: "queued", OR: [{ phase: null }, { phase: { not: phase } }] }, data: { phase } });
}

/** Claims the next runnable job (of `types`), or exactly `onlyId` when given (null: another worker took it). */
export async function claimJob(workerId: string, types?: string[], onlyId?: string): Promise<ClaimedJob | null> {
  const client = await db();
  for (let attempt = 0; attempt < 8; attempt++) {
    const now = new Date();
    const candidate = await client.job.findFirst({
      where: { status: "queued", runAfter: { lte: now }, cancelRequested: false, ...(types ? { type: { in: types } } : {}), ...(onlyId ? { id: onlyId } : {}) },
      orderBy: NEXT_ORDER,
      select: { id: true },
    });
    if (!candidate) return null;
    const claimed = await client.job.updateMany({
      where: { id: candidate.id, status: "queued" },
      data: {
        status: "running",
        leaseOwner: workerId,
        leaseToken: { increment: 1 },
        leaseExpiresAt: new Date(now.getTime() + LEASE_MS),
        attempts: { increment: 1 },
        startedAt: now,
        phase: "starting",
        errorCode: null,
        errorMessage: null,
      },
    });
    if (claimed.count === 1) {
      const job = await client.job.findUniqueOrThrow({ where: { id: candidate.id } });
      return {
        id: job.id,
        type: job.type,
        version: job.version,
        payload: job.payload,
        attempts: job.attempts,
        maxAttempts: job.maxAttempts,
        leaseToken: job.leaseToken,
        idempotencyKey: job.idempotencyKey,
        experimentId: job.experimentId,
      };
    }
    // Another worker won this one: look again.
  }
  return null;
}

/** Renews the lease (and records progress). Returns whether cancellation was requested. */
export async function heartbeat(jobId: string, token: number, progress?: ProgressColumns | null): Promise<{ cancelRequested: boolean }> {
  const client = await db();
  const r = await client.job.updateMany({
    where: { id: jobId, leaseToken: token, status: "running" },
    data: { leaseExpiresAt: new Date(Date.now() + LEASE_MS), ...(progress ?? {}) },
  });
  if (r.count !== 1) throw new LeaseLostError(jobId);
  const row = await client.job.findUnique({ where: { id: jobId }, select: { cancelRequested: true } });
  return { cancelRequested: row?.cancelRequested ?? true };
}

export async function appendJobLog(jobId: string, token: number | null, level: "info" | "warn" | "error", message: string): Promise<void> {
  const client = await db();
  if (token !== null) {
    const owned = await client.job.count({ where: { id: jobId, leaseToken: token, status: "running" } });
    if (owned !== 1) return; // a stale worker's log lines are dropped with its writes
  }
  await client.jobLog.create({ data: { jobId, level, message: message.slice(0, 4000) } });
}

/** How often a running job's buffered log lines are written. */
const LOG_FLUSH_MS = 500;

/**
 * A running job's log, written in batches: one fenced INSERT per flush rather than two statements
 * per line (an evaluation can print hundreds of lines a second, each a turn at the write lock).
 * Lines keep the time they were logged; `flush` writes what is pending (call it before the job's
 * outcome is recorded).
 */
export function jobLogWriter(jobId: string, token: number) {
  let pending: { level: "info" | "warn" | "error"; message: string; ts: Date }[] = [];
  let timer: NodeJS.Timeout | null = null;
  let written: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    const lines = pending;
    pending = [];
    if (lines.length > 0)
      written = written
        .then(async () => {
          const client = await db();
          const owned = await client.job.count({ where: { id: jobId, leaseToken: token, status: "running" } });
          if (owned === 1) await client.jobLog.createMany({ data: lines.map((l) => ({ jobId, ...l })) }); // a stale worker's lines are dropped
        })
        .catch(() => {}); // a log line is not worth failing the job
    return written;
  };
  return {
    write(level: "info" | "warn" | "error", message: string): void {
      pending.push({ level, message: message.slice(0, 4000), ts: new Date() });
      timer ??= setTimeout(() => void flush(), LOG_FLUSH_MS);
    },
    flush,
  };
}

export interface CompletionRecord {
  result: unknown;
  outputPath?: string;
  outputSha256?: string;
  /** Writes derived rows (e.g. analysis statistics) in the same transaction as the done status. */
  persist?: (tx: DbTx) => Promise<void>;
  /** A server-side follow-up runs next: the row says so until finishFollowUp (a crash in between is resumed). */
  followUp?: boolean;
}

/** Marks the job done and records its result in one transaction, fenced by the lease. */
export async function completeJob(jobId: string, token: number, rec: CompletionRecord): Promise<void> {
  await writeTransaction(`recording job ${jobId} as done`, async (tx) => {
    const r = await tx.job.updateMany({
      where: { id: jobId, leaseToken: token, status: "running" },
      data: { ...doneData(rec), ...(rec.followUp ? { phase: FOLLOW_UP_PHASE } : {}), leaseOwner: null, leaseExpiresAt: null },
    });
    if (r.count !== 1) throw new LeaseLostError(jobId);
    if (rec.persist) await rec.persist(tx);
  });
}

/** Records a failure: bad input fails at once; other errors retry with backoff until maxAttempts. */
export async function failJob(jobId: string, token: number, code: string, message: string): Promise<"failed" | "queued"> {
  const client = await db();
  const job = await client.job.findUnique({ where: { id: jobId }, select: { attempts: true, maxAttempts: true } });
  const permanent = isPermanentErrorCode(code) || !job || job.attempts >= job.maxAttempts;
  const r = await client.job.updateMany({
    where: { id: jobId, leaseToken: token, status: "running" },
    data: permanent
      ? { ...failedData(code, message), leaseOwner: null, leaseExpiresAt: null }
      : { ...retryData(code, message, job?.attempts ?? 1), leaseOwner: null, leaseExpiresAt: null },
  });
  if (r.count !== 1) throw new LeaseLostError(jobId);
  return permanent ? "failed" : "queued";
}

/** A running job whose cancellation was requested has stopped and cleaned up. */
export async function markCancelled(jobId: string, token: number): Promise<void> {
  const client = await db();
  await client.job.updateMany({
    where: { id: jobId, leaseToken: token, status: "running" },
    data: { ...cancelledData(), leaseOwner: null, leaseExpiresAt: null },
  });
}

/**
 * Re-queues running jobs whose lease expired (their worker died or hung) and
 * bumps the lease token so the old worker's late writes are rejected. Jobs
 * out of attempts fail with WORKER_LOST. Returns how many were handled.
 */
export async function reapExpiredLeases(now = new Date()): Promise<number> {
  const client = await db();
  const running = await client.job.findMany({
    where: { status: "running" },
    select: { id: true, leaseToken: true, attempts: true, maxAttempts: true, cancelRequested: true, leaseExpiresAt: true, leaseOwner: true },
  });
  // A lease is over when it expired, or at once when its owner is a dead process on this host.
  const expired = running.filter((j) => (j.leaseExpiresAt !== null && j.leaseExpiresAt < now) || ownerIsDeadLocalProcess(j.leaseOwner));
  let n = 0;
  for (const j of expired) {
    const outOfAttempts = j.attempts >= j.maxAttempts;
    const data = j.cancelRequested
      ? cancelledData("cancelled (its worker stopped)", now)
      : outOfAttempts
        ? failedData("WORKER_LOST", `worker stopped responding on attempt ${j.attempts} of ${j.maxAttempts}`, now)
        : { status: "queued" as const, phase: "re-queued after worker loss", runAfter: now };
    const r = await client.job.updateMany({
      where: { id: j.id, status: "running", leaseToken: j.leaseToken },
      data: { ...data, leaseToken: { increment: 1 }, leaseOwner: null, leaseExpiresAt: null },
    });
    if (r.count === 1) {
      n++;
      await client.jobLog.create({ data: { jobId: j.id, level: "warn", message: `lease expired: ${data.phase}` } });
    }
  }
  return n;
}

/** A worker shutting down hands its job back to the queue (not counted as an attempt). */
export async function releaseJob(jobId: string, token: number): Promise<void> {
  const client = await db();
  await client.job.updateMany({
    where: { id: jobId, leaseToken: token, status: "running" },
    data: { status: "queued", attempts: { decrement: 1 }, leaseToken: { increment: 1 }, leaseOwner: null, leaseExpiresAt: null, phase: "re-queued (worker stopped)", runAfter: new Date() },
  });
}

/** Runnable queued jobs (the scheduler splits the free cores among them). */
export async function countRunnable(now = new Date()): Promise<number> {
  const client = await db();
  return client.job.count({ where: { status: "queued", runAfter: { lte: now }, cancelRequested: false } });
}

/** Records the threads and working-set estimate the scheduler gave a running job (shown on its page). */
export async function recordPlacement(jobId: string, token: number, placement: { threads: number; workingSetBytes: number }): Promise<void> {
  const client = await db();
  await client.job.updateMany({ where: { id: jobId, leaseToken: token, status: "running" }, data: placement });
}

/** The follow-up of a done job finished (or was given up with a logged warning). */
export async function finishFollowUp(jobId: string): Promise<void> {
  const client = await db();
  await client.job.updateMany({ where: { id: jobId, status: "done", phase: FOLLOW_UP_PHASE }, data: { phase: "done" } });
}

/**
 * Done jobs whose follow-up was interrupted (their worker died between completion and
 * follow-up), finished more than `graceMs` ago. Each is claimed by compare-and-set on its
 * phase, so two workers never resume the same one.
 */
export async function claimStaleFollowUps(workerId: string, graceMs: number, now = Date.now()): Promise<string[]> {
  const client = await db();
  const stale = await client.job.findMany({
    where: { status: "done", phase: FOLLOW_UP_PHASE, finishedAt: { lt: new Date(now - graceMs) } },
    select: { id: true },
    take: 20,
  });
  const claimed: string[] = [];
  for (const { id } of stale) {
    const r = await client.job.updateMany({ where: { id, status: "done", phase: FOLLOW_UP_PHASE }, data: { phase: `${FOLLOW_UP_PHASE} (resumed by ${workerId})`.slice(0, 300) } });
    if (r.count === 1) claimed.push(id);
  }
  return claimed;
}

/** Marks a resumed follow-up finished. */
export async function finishResumedFollowUp(jobId: string): Promise<void> {
  const client = await db();
  await client.job.updateMany({ where: { id: jobId, status: "done", phase: { startsWith: `${FOLLOW_UP_PHASE} (resumed` } }, data: { phase: "done" } });
}
