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

/** Codes of failures that retrying cannot fix (bad input): the job fails on its first attempt. */
export function isPermanentErrorCode(code: string): boolean {
  return (
    // EVAL_*: an evaluation command that timed out or failed would fail the same way again.
    // PATH_* / FILE_TOO_LARGE: a refused path is refused again (server/paths, native path_policy.h).
    /^(ST|IDX|MODEL|RECIPE|EVAL|PATH)_/.test(code) ||
    ["OUT_NO_SPACE", "OUT_EXISTS", "JOB_PAYLOAD_INVALID", "JOB_TYPE_UNKNOWN", "INVALID_ARGUMENT", "CANCELLED", "FILE_TOO_LARGE"].includes(code)
  );
}
