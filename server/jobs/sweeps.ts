// Sweeps as the jobs page shows them: one row per sweep (its jobs' counts by status and
// overall progress, expandable into its jobs) among the jobs queued on their own, newest
// first, a page at a time. Page p reads the ids and dates of at most (p + 1) × page size
// sweeps and lone jobs (plus counts), so a page stays fast with tens of thousands of jobs.
import { z } from "zod";
import { db } from "../db/client";
import { jobWhere, listJobs, type JobFilter } from "./client";
import { JOB_STATUSES, jobSummarySchema, type JobStatus } from "./status";

export async function createSweep(input: { label: string; type: string; experimentId: string | null; createdById: string | null }): Promise<string> {
  const client = await db();
  return (await client.sweep.create({ data: input, select: { id: true } })).id;
}

/** Removes a sweep that created no job (all its points existed already). */
export async function deleteEmptySweep(id: string): Promise<void> {
  const client = await db();
  if ((await client.job.count({ where: { sweepId: id } })) === 0) await client.sweep.deleteMany({ where: { id } });
}

export const sweepSummarySchema = z.object({
  id: z.string(),
  label: z.string(),
  type: z.string(),
  experimentId: z.string().nullable(),
  createdAt: z.date(),
  /** Jobs of the sweep matching the page's filters, and all of them. */
  matching: z.number(),
  total: z.number(),
  counts: z.record(z.enum(JOB_STATUSES), z.number()),
  /** Mean progress of its jobs (0–1): finished jobs count as 1. */
  progress: z.number(),
});
export type SweepSummary = z.infer<typeof sweepSummarySchema>;

export const jobGroupsSchema = z.object({
  rows: z.array(z.discriminatedUnion("kind", [z.object({ kind: z.literal("sweep"), sweep: sweepSummarySchema }), z.object({ kind: z.literal("job"), job: jobSummarySchema })])),
  /** Rows (sweeps + jobs on their own) matching the filters, over all pages. */
  totalRows: z.number(),
  /** Jobs matching the filters, by status (sweeps' jobs included). */
  counts: z.record(z.enum(JOB_STATUSES), z.number()),
  page: z.number(),
  pageSize: z.number(),
});
export type JobGroups = z.infer<typeof jobGroupsSchema>;

const FINISHED: JobStatus[] = ["done", "failed", "cancelled"];

export async function listJobGroups(filter: Pick<JobFilter, "status" | "type" | "experimentId"> & { page?: number; pageSize?: number }): Promise<JobGroups> {
  const client = await db();
  const page = Math.max(0, filter.page ?? 0);
  const pageSize = Math.min(Math.max(1, filter.pageSize ?? 50), 500);
  const where = jobWhere(filter);

  // A page of the merged order (sweeps and lone jobs, newest first) needs at most the first
  // (page + 1) * pageSize rows of each kind: both are read in that order and merged here.
  const take = (page + 1) * pageSize;
  const order = [{ createdAt: "desc" as const }, { id: "desc" as const }];
  const [alone, sweeps, aloneTotal, sweepTotal, byStatus] = await Promise.all([
    client.job.findMany({ where: { ...where, sweepId: null }, select: { id: true, createdAt: true }, orderBy: order, take }),
    client.sweep.findMany({ where: { jobs: { some: where } }, orderBy: order, take }),
    client.job.count({ where: { ...where, sweepId: null } }),
    client.sweep.count({ where: { jobs: { some: where } } }),
    client.job.groupBy({ by: ["status"], where, _count: { _all: true } }),
  ]);

  type Entry = { kind: "sweep" | "job"; id: string; createdAt: Date };
  const entries: Entry[] = [...sweeps.map((s) => ({ kind: "sweep" as const, id: s.id, createdAt: s.createdAt })), ...alone.map((j) => ({ kind: "job" as const, id: j.id, createdAt: j.createdAt }))];
  entries.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const slice = entries.slice(page * pageSize, (page + 1) * pageSize);
  const pageSweepIds = slice.filter((e) => e.kind === "sweep").map((e) => e.id);
  const matchingGroups = pageSweepIds.length ? await client.job.groupBy({ by: ["sweepId"], where: { ...where, sweepId: { in: pageSweepIds } }, _count: { _all: true } }) : [];
  const matching = new Map(matchingGroups.map((g) => [g.sweepId!, g._count._all]));

  const jobIds = slice.filter((e) => e.kind === "job").map((e) => e.id);
  const [jobs, sweepStatus] = await Promise.all([
    jobIds.length ? listJobs({ ids: jobIds, limit: jobIds.length }) : Promise.resolve([]),
    pageSweepIds.length ? client.job.groupBy({ by: ["sweepId", "status"], where: { sweepId: { in: pageSweepIds } }, _count: { _all: true }, _sum: { progress: true } }) : Promise.resolve([]),
  ]);
  const jobById = new Map(jobs.map((j) => [j.id, j]));
  const sweepById = new Map(sweeps.map((s) => [s.id, s]));
  const rows: JobGroups["rows"] = slice.flatMap((e): JobGroups["rows"] => {
    if (e.kind === "job") {
      const job = jobById.get(e.id);
      return job ? [{ kind: "job", job }] : [];
    }
    const s = sweepById.get(e.id)!;
    const counts = zeroCounts();
    let progress = 0;
    for (const g of sweepStatus.filter((x) => x.sweepId === s.id)) {
      const status = g.status as JobStatus;
      counts[status] += g._count._all;
      progress += FINISHED.includes(status) ? g._count._all : (g._sum.progress ?? 0);
    }
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    return [{ kind: "sweep", sweep: { id: s.id, label: s.label, type: s.type, experimentId: s.experimentId, createdAt: s.createdAt, matching: matching.get(s.id) ?? 0, total, counts, progress: total ? progress / total : 0 } }];
  });
  const counts = zeroCounts();
  for (const g of byStatus) counts[g.status as JobStatus] += g._count._all;
  return { rows, totalRows: aloneTotal + sweepTotal, counts, page, pageSize };
}

function zeroCounts(): Record<JobStatus, number> {
  return Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
}
