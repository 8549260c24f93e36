import type { JobSummary } from "@/server/jobs/status";
import { formatBytes, formatDuration } from "./format";

/** Progress bar with phase, tensors, throughput and ETA of one job. */
export function JobProgress({ job }: { job: JobSummary }) {
  const pct = Math.round(job.progress * 100);
  const details =
    job.status === "running"
      ? [
          job.phase,
          job.tensorsTotal > 0 ? `${job.tensorsDone}/${job.tensorsTotal} tensors` : null,
          job.bytesPerSec ? `${formatBytes(job.bytesPerSec)}/s` : null,
          job.etaSeconds !== null ? `ETA ${formatDuration(job.etaSeconds)}` : null,
        ]
          .filter(Boolean)
          .join(" · ")
      : job.phase;
  return (
    <div className="job-progress">
      <div
        className={`bar bar-${job.status}`}
        role="progressbar"
        aria-label={`progress of ${job.label}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        data-testid="job-progress"
      >
        <span style={{ width: `${pct}%` }} />
      </div>
      <small className="muted">
        {pct}% {details ? `— ${details}` : ""}
      </small>
    </div>
  );
}
