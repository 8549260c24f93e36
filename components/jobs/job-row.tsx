"use client";

import { useMutation } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";
import type { JobSummary } from "@/server/jobs/status";
import { JobLogs } from "./job-logs";
import { formatBytes } from "./format";
import { JobProgress } from "./job-progress";

/** One job: status, progress, error, and its actions (cancel, retry, priority, delete, logs). */
export function JobRow({ job }: { job: JobSummary }) {
  const trpc = useTRPC();
  const refetchAfterWrite = useRefetchAfterWrite();
  const [open, setOpen] = useState(false);
  const refetch = () => refetchAfterWrite(trpc.jobs.pathKey());
  const cancel = useMutation(trpc.jobs.cancel.mutationOptions({ onSuccess: refetch }));
  const retry = useMutation(trpc.jobs.retry.mutationOptions({ onSuccess: refetch }));
  const remove = useMutation(trpc.jobs.delete.mutationOptions({ onSuccess: refetch }));
  const priority = useMutation(trpc.jobs.setPriority.mutationOptions({ onSuccess: refetch }));
  const active = job.status === "queued" || job.status === "running";
  const error = cancel.error ?? retry.error ?? remove.error ?? priority.error;

  return (
    <Fragment>
      <tr data-testid="job-row" data-job-id={job.id} data-status={job.status}>
        <td>
          <span className="job-label">{job.label}</span>
          <br />
          <small className="muted">
            {job.type} · <code>{job.id}</code>
            {" · "}
            <span data-testid="job-created-by">{job.createdBy ? `by ${job.createdBy}` : "by the server"}</span>
          </small>
        </td>
        <td>
          <span className={`status status-${job.status}`} data-testid="job-status">
            {job.status}
            {job.cancelRequested && job.status === "running" ? " (cancelling)" : ""}
          </span>
        </td>
        <td className="progress-cell">
          <JobProgress job={job} />
          {job.threads !== null && (
            <small className="muted" data-testid="job-resources">
              {" "}
              {job.threads} engine thread{job.threads === 1 ? "" : "s"}
              {job.workingSetBytes ? ` · working set ~${formatBytes(job.workingSetBytes)} (estimate)` : ""}
            </small>
          )}
          {job.errorCode && (
            <small className="error" data-testid="job-error">
              [{job.errorCode}] {job.errorMessage}
            </small>
          )}
        </td>
        <td>{job.attempts}/{job.maxAttempts}</td>
        <td>
          {job.status === "queued" ? (
            <label>
              <span className="sr-only">priority of {job.label}</span>
              <input
                type="number"
                min={-100}
                max={100}
                defaultValue={job.priority}
                className="priority-input"
                onBlur={(e) => {
                  const v = Number(e.currentTarget.value);
                  if (Number.isInteger(v) && v !== job.priority) priority.mutate({ id: job.id, priority: v });
                }}
              />
            </label>
          ) : (
            job.priority
          )}
        </td>
        <td className="actions">
          {active && (
            <button type="button" onClick={() => cancel.mutate({ id: job.id })} disabled={job.cancelRequested} data-testid="job-cancel">
              Cancel
            </button>
          )}
          {(job.status === "failed" || job.status === "cancelled") && (
            <button type="button" onClick={() => retry.mutate({ id: job.id })} data-testid="job-retry">
              Retry
            </button>
          )}
          {!active && (
            <button type="button" onClick={() => remove.mutate({ id: job.id })} data-testid="job-delete">
              Delete
            </button>
          )}
          <button type="button" aria-expanded={open} onClick={() => setOpen((o) => !o)} data-testid="job-logs-toggle">
            {open ? "Hide logs" : "Logs"}
          </button>
          {error && <small className="error" role="alert">{error.message}</small>}
        </td>
      </tr>
      {open && (
        <tr className="logs-row">
          <td colSpan={6}>
            <JobLogs jobId={job.id} live={active} />
          </td>
        </tr>
      )}
    </Fragment>
  );
}
