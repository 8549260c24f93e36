"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/trpc";

/** Log lines and result of one job, refreshed while it runs. */
export function JobLogs({ jobId, live }: { jobId: string; live: boolean }) {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.jobs.get.queryOptions({ id: jobId }), refetchInterval: live ? 1000 : false });
  if (q.isPending) return <p className="muted" role="status">Loading logs…</p>;
  if (q.isError) return <p className="error" role="alert">Could not load the logs: {q.error.message}</p>;
  return (
    <div className="job-logs" data-testid="job-logs">
      <pre aria-label="job log">
        {q.data.logs.map((l) => `${l.ts.toISOString()}  ${l.level.padEnd(5)}  ${l.message}`).join("\n") || "no log lines yet"}
      </pre>
      {q.data.job.outputPath && (
        <p>
          Output: <code>{q.data.job.outputPath}</code> <small className="muted">sha256 {q.data.job.outputSha256}</small>
        </p>
      )}
    </div>
  );
}
