"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { ErrorAlert } from "@/components/common/error-alert";
import { formatDate } from "@/components/common/format";
import { useTRPC } from "@/components/providers/trpc";

/** The experiment's jobs (jobs.list with experimentId), refreshed while any is active. */
export function ExperimentJobs({ experimentId }: { experimentId: string }) {
  const trpc = useTRPC();
  const jobs = useQuery({
    ...trpc.jobs.list.queryOptions({ experimentId, limit: 200 }),
    refetchInterval: (q) => (q.state.data?.some((j) => j.status === "queued" || j.status === "running") ? 2_000 : 15_000),
  });
  if (jobs.isPending) return <p role="status" className="muted">Loading jobs…</p>;
  if (jobs.isError) return <ErrorAlert error={jobs.error} prefix="Could not load the jobs:" />;
  if (jobs.data.length === 0) {
    return (
      <p className="empty" data-testid="experiment-jobs-empty">
        No jobs yet: <Link href={`/builder?exp=${encodeURIComponent(experimentId)}`}>build a merge or a sweep</Link>.
      </p>
    );
  }
  return (
    <div className="table-wrap">
      <table className="data" data-testid="experiment-jobs">
        <caption className="sr-only">Jobs of the experiment</caption>
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">Progress</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {jobs.data.map((j) => (
            <tr key={j.id} data-testid="experiment-job" data-status={j.status}>
              <td>
                {j.label}
                {j.errorMessage ? <div className="hint error">{j.errorCode ? `${j.errorCode}: ` : ""}{j.errorMessage}</div> : null}
              </td>
              <td>{j.type}</td>
              <td><span className={`status status-${j.status}`}>{j.status}</span></td>
              <td className="num">{Math.round(j.progress * 100)}%</td>
              <td>{formatDate(j.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
