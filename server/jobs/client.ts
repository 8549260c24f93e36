// The job client: idempotent enqueue (payload validated by the job type's
// schema), listing, cancel, retry, delete — over whichever backend runs the
// work (backend.ts). Services and the tRPC jobs router call it; nothing here
// calls them back. The Job and JobLog tables belong to server/jobs.
import { env } from "../env";
import { AppError } from "../errors";
import { db } from "../db/client";
import { userLabels } from "../services/auth/users";
import { jobBackend } from "./backend";
import { PermanentJobError } from "./definition";
import { idempotencyKey } from "./idempotency";
import { jobDefinition } from "./registry";
import { requeueData, cancelledData } from "./state";
import { JOB_STATUSES, type JobStatus, type JobSummary } from "./status";

export interface EnqueueInput {
  type: string;
  payload: unknown;
  priority?: number;
  experimentId?: string | null;
  /** Re-run even when the same work already finished (a cached merge is otherwise reused). */
  force?: boolean;
  label?: string;
  /** The account queueing it (recorded on a new job). */
  createdById?: string | null;
  /** The sweep queueing it (recorded on a new job; an existing identical job keeps its own). */
  sweepId?: string | null;
}

type JobRow = Awaited<ReturnType<Awaited<ReturnType<typeof db>>["job"]["findUniqueOrThrow"]>>;

function labelOf(row: JobRow): string {
  try {
    const p = JSON.parse(row.payload) as { label?: string };
    if (typeof p.label === "string" && p.label) return p.label;
  } catch {
    // payloads are validated at enqueue; a legacy one just has no label
  }
  return `${row.type} ${row.id.slice(-6)}`;
}

export function toJobSummary(row: JobRow): JobSummary {
  return {
    id: row.id,
    type: row.type,
    version: row.version,
    status: (JOB_STATUSES as readonly string[]).includes(row.status) ? (row.status as JobStatus) : "failed",
    priority: row.priority,
    progress: row.progress,
    phase: row.phase,
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    tensorsDone: row.tensorsDone,
    tensorsTotal: row.tensorsTotal,
    bytesDone: row.bytesDone,
    bytesTotal: row.bytesTotal,
    bytesPerSec: row.bytesPerSec,
    etaSeconds: row.etaSeconds,
    threads: row.threads,
    workingSetBytes: row.workingSetBytes,
    errorCode: row.errorCode,
    errorMessage: row.errorMessage,
    outputPath: row.outputPath,
    outputSha256: row.outputSha256,
    experimentId: row.experimentId,
    createdById: row.createdById,
    createdBy: null,
    label: labelOf(row),
    cancelRequested: row.cancelRequested,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

/** The database row is the record; the backend carries the work (a no-op for the embedded queue). */
async function submit(row: JobRow): Promise<void> {
  await (await jobBackend(env().REDIS_URL)).submit(row);
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: string }).code === "P2002";
}

function experimentMissing(id: string): AppError {
  return new AppError("NOT_FOUND", `experiment ${id} not found; it may have been deleted (queue the job without an experiment, or pick another one)`);
}

/** A job's experiment must exist (a foreign-key failure would otherwise surface as a database error). */
export async function assertExperimentExists(id: string | null | undefined): Promise<void> {
  if (!id) return;
  const client = await db();
  if (!(await client.experiment.findUnique({ where: { id }, select: { id: true } }))) throw experimentMissing(id);
}

/** Fills in the creators' names. */
export async function withCreators(jobs: JobSummary[]): Promise<JobSummary[]> {
  const names = await userLabels(jobs.map((j) => j.createdById));
  return jobs.map((j) => ({ ...j, createdBy: j.createdById ? (names.get(j.createdById) ?? null) : null }));
}

export async function enqueueJob(input: EnqueueInput): Promise<{ job: JobSummary; created: boolean }> {
  const def = jobDefinition(input.type);
  if (!def) throw new AppError("BAD_INPUT", `unknown job type '${input.type}'`);
  await assertExperimentExists(input.experimentId);
  const parsed = def.payload.safeParse(input.payload);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`).join("; ");
    throw new AppError("BAD_INPUT", `invalid ${input.type} job: ${issues}`);
  }
  let identity: unknown;
  try {
    identity = await def.identity(parsed.data);
  } catch (err) {
    // A recipe that cannot be parsed is refused now instead of failing in a worker.
    if (err instanceof PermanentJobError) throw new AppError("BAD_INPUT", err.message, { engineCode: err.code });
    throw err;
  }
  const key = idempotencyKey(def.type, def.version, identity);
  const client = await db();
  const existing = await client.job.findUnique({ where: { idempotencyKey: key } });
  if (existing) {
    if (input.force && ["done", "failed", "cancelled"].includes(existing.status)) {
      const requeued = await client.job.updateMany({
        where: { id: existing.id, status: existing.status },
        data: requeueData(),
      });
      const row = await client.job.findUniqueOrThrow({ where: { id: existing.id } });
      if (requeued.count === 1) await submit(row);
      return { job: toJobSummary(row), created: requeued.count === 1 };
    }
    return { job: toJobSummary(existing), created: false };
  }
  try {
    const row = await client.job.create({
      data: {
        type: def.type,
        version: def.version,
        payload: JSON.stringify(parsed.data),
        idempotencyKey: key,
        priority: input.priority ?? 0,
        experimentId: input.experimentId ?? null,
        createdById: input.createdById ?? null,
        sweepId: input.sweepId ?? null,
      },
    });
    await client.jobLog.create({ data: { jobId: row.id, level: "info", message: "queued" } });
    await submit(row);
    return { job: toJobSummary(row), created: true };
  } catch (err) {
    // The experiment was deleted between the check and the insert.
    if ((err as { code?: string }).code === "P2003" && input.experimentId) throw experimentMissing(input.experimentId);
    // A concurrent identical enqueue won the unique key: return its job.
    if (!isUniqueViolation(err)) throw err;
    const row = await client.job.findUniqueOrThrow({ where: { idempotencyKey: key } });
    return { job: toJobSummary(row), created: false };
  }
}


export interface JobFilter {
  status?: JobStatus[];
  type?: string[];
  experimentId?: string;
  sweepId?: string;
  /** Only these jobs (a page of the grouped list). */
  ids?: string[];
  limit?: number;
}

/** The WHERE clause of a job filter (the list and the grouped list share it). */
export function jobWhere(filter: Omit<JobFilter, "limit">) {
  return {
    ...(filter.status?.length ? { status: { in: filter.status } } : {}),
    ...(filter.type?.length ? { type: { in: filter.type } } : {}),
    ...(filter.experimentId ? { experimentId: filter.experimentId } : {}),
    ...(filter.sweepId ? { sweepId: filter.sweepId } : {}),
    ...(filter.ids ? { id: { in: filter.ids } } : {}),
  };
}

export async function listJobs(filter: JobFilter = {}): Promise<JobSummary[]> {
  const client = await db();
  const rows = await client.job.findMany({
    where: jobWhere(filter),
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: Math.min(filter.limit ?? 500, 5000),
  });
  return withCreators(rows.map(toJobSummary));
}

export async function getJob(id: string): Promise<{ job: JobSummary; payload: unknown; result: unknown; logs: { ts: Date; level: string; message: string }[] }> {
  const client = await db();
  const row = await client.job.findUnique({ where: { id } });
  if (!row) throw new AppError("NOT_FOUND", `job ${id} not found`);
  const logs = await client.jobLog.findMany({ where: { jobId: id }, orderBy: { id: "asc" }, take: 2000 });
  return {
    job: (await withCreators([toJobSummary(row)]))[0]!,
    payload: JSON.parse(row.payload) as unknown,
    result: row.result ? (JSON.parse(row.result) as unknown) : null,
    logs: logs.map((l) => ({ ts: l.ts, level: l.level, message: l.message })),
  };
}

/** Queued jobs are cancelled at once; running ones are asked to stop (their worker cleans up). */
export async function cancelJob(id: string): Promise<JobSummary> {
  const client = await db();
  const q = await client.job.updateMany({
    where: { id, status: "queued" },
    data: { ...cancelledData(), cancelRequested: true },
  });
  if (q.count === 0) await client.job.updateMany({ where: { id, status: "running" }, data: { cancelRequested: true } });
  await (await jobBackend(env().REDIS_URL)).cancel(id);
  const row = await client.job.findUnique({ where: { id } });
  if (!row) throw new AppError("NOT_FOUND", `job ${id} not found`);
  await client.jobLog.create({ data: { jobId: id, level: "info", message: "cancel requested" } });
  return toJobSummary(row);
}

export async function retryJob(id: string): Promise<JobSummary> {
  const client = await db();
  const r = await client.job.updateMany({ where: { id, status: { in: ["failed", "cancelled"] } }, data: requeueData() });
  const row = await client.job.findUnique({ where: { id } });
  if (!row) throw new AppError("NOT_FOUND", `job ${id} not found`);
  if (r.count === 0) throw new AppError("CONFLICT", `job ${id} is ${row.status}; only failed or cancelled jobs can be retried`);
  await client.jobLog.create({ data: { jobId: id, level: "info", message: "retry requested" } });
  await submit(row);
  return toJobSummary(row);
}

export async function deleteJob(id: string): Promise<void> {
  const client = await db();
  const r = await client.job.deleteMany({ where: { id, status: { not: "running" } } });
  if (r.count === 1) await (await jobBackend(env().REDIS_URL)).remove(id);
  if (r.count === 0) {
    const row = await client.job.findUnique({ where: { id } });
    if (!row) throw new AppError("NOT_FOUND", `job ${id} not found`);
    throw new AppError("CONFLICT", `job ${id} is running; cancel it first`);
  }
}

export async function setJobPriority(id: string, priority: number): Promise<JobSummary> {
  const client = await db();
  const r = await client.job.updateMany({ where: { id, status: "queued" }, data: { priority } });
  const row = await client.job.findUnique({ where: { id } });
  if (!row) throw new AppError("NOT_FOUND", `job ${id} not found`);
  if (r.count === 0) throw new AppError("CONFLICT", `job ${id} is ${row.status}; only queued jobs can be re-prioritised`);
  return toJobSummary(row);
}
