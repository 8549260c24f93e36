// Runs a claimed job the way a worker process does (server/worker/main.ts wires the
// server-side follow-ups of a completed job), on one engine thread.
import type { ClaimedJob } from "../../../server/jobs/embedded/lease";
import { runClaimedJob as runWithPlacement, type RunOutcome } from "../../../server/jobs/embedded/worker";
import { onJobCompleted } from "../../../server/services/follow-ups/on-job-completed";

export function runClaimedJob(job: ClaimedJob, shutdown: AbortSignal): Promise<RunOutcome> {
  return runWithPlacement(job, shutdown, { onCompleted: onJobCompleted });
}
