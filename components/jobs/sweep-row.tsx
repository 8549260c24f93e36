"use client";

import { useQuery } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { useTRPC, type RouterOutputs } from "@/components/providers/trpc";
import { JOB_STATUSES, type JobStatus } from "@/server/jobs/status";
import { JobRow } from "./job-row";

type SweepSummary = Extract<RouterOutputs["jobs"]["groups"]["rows"][number], { kind: "sweep" }>["sweep"];

/** A sweep as one row: its jobs' counts by status and overall progress; expands into its jobs (the page's filters apply). */
export function SweepRow({ sweep, status, type }: { sweep: SweepSummary; status: JobStatus[]; type: string[] }) {
  const trpc = useTRPC();
  const [open, setOpen] = useState(false);
  const active = sweep.counts.queued + sweep.counts.running > 0;
  const jobs = useQuery({
    ...trpc.jobs.list.queryOptions({ sweepId: sweep.id, status: status.length ? status : undefined, type: type.length ? type : undefined, limit: 5000 }),
    enabled: open,
    refetchInterval: active ? 1000 : 5000,
  });
  const pct = Math.round(sweep.progress * 100);
  const filtered = sweep.matching !== sweep.total;
  return (
    <Fragment>
      <tr data-testid="sweep-row" data-sweep-id={sweep.id} data-total={sweep.total}>
        <td>
          <button type="button" className="btn btn-small" aria-expanded={open} onClick={() => setOpen((o) => !o)} aria-label={`${open ? "Hide" : "Show"} the jobs of ${sweep.label}`}>
            {open ? "▾" : "▸"}
          </button>{" "}
          <span className="job-label">{sweep.label}</span>
          <br />
          <small className="muted">
            sweep of {sweep.total} {sweep.type} job{sweep.total === 1 ? "" : "s"}
            {filtered ? ` (${sweep.matching} match the filters)` : ""}
          </small>
        </td>
        <td data-testid="sweep-counts">
          {JOB_STATUSES.filter((s) => sweep.counts[s] > 0).map((s) => (
            <span key={s} className={`status status-${s}`} data-status={s}>
              {sweep.counts[s]} {s}
            </span>
          ))}
        </td>
        <td>
          <div className="job-progress">
            <div className={`bar bar-${active ? "running" : sweep.counts.failed > 0 ? "failed" : "done"}`} role="progressbar" aria-label={`progress of ${sweep.label}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
              <span style={{ width: `${pct}%` }} />
            </div>
            <small className="muted">
              {sweep.counts.done + sweep.counts.failed + sweep.counts.cancelled} of {sweep.total} finished
            </small>
          </div>
        </td>
        <td colSpan={3} />
      </tr>
      {open && jobs.isPending && (
        <tr>
          <td colSpan={6} className="muted" role="status">
            Loading the sweep&apos;s jobs…
          </td>
        </tr>
      )}
      {open && jobs.data?.map((j) => <JobRow key={j.id} job={j} />)}
    </Fragment>
  );
}
