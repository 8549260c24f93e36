// Job statuses and the public shape of a job (API, CLI `jobs --json`, UI).
import { z } from "zod";

export const JOB_STATUSES = ["queued", "running", "done", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const jobStatusSchema = z.enum(JOB_STATUSES);

export const jobSummarySchema = z.object({
  id: z.string(),
  type: z.string(),
  version: z.number(),
  status: jobStatusSchema,
  priority: z.number(),
  progress: z.number(),
  phase: z.string().nullable(),
  attempts: z.number(),
  maxAttempts: z.number(),
  tensorsDone: z.number(),
  tensorsTotal: z.number(),
  bytesDone: z.number(),
  bytesTotal: z.number(),
  bytesPerSec: z.number().nullable(),
  etaSeconds: z.number().nullable(),
  /** Engine threads and estimated working set (bytes) the scheduler gave the running or last attempt. */
  threads: z.number().nullable(),
  workingSetBytes: z.number().nullable(),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  outputPath: z.string().nullable(),
  outputSha256: z.string().nullable(),
  experimentId: z.string().nullable(),
  /** The account that queued it, and its name (null: the demo, an automatic follow-up, or before accounts). */
  createdById: z.string().nullable(),
  createdBy: z.string().nullable(),
  label: z.string(),
  cancelRequested: z.boolean(),
  createdAt: z.date(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
});
export type JobSummary = z.infer<typeof jobSummarySchema>;
