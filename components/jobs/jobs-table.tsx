"use client";

import { useQuery } from "@tanstack/react-query";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { useTRPC } from "@/components/providers/trpc";
import { JOB_STATUSES, type JobStatus } from "@/server/jobs/status";
import { JobRow } from "./job-row";
import { SweepRow } from "./sweep-row";

const PAGE_SIZE = 50;

const TYPES = ["merge", "analyze", "analyze-sweep", "analyze-series", "evaluate", "import-scores"];

function parseList(v: string): string[] {
  return v.split(",").filter(Boolean);
}

function parseStatus(v: string): JobStatus[] {
  return parseList(v).filter((s): s is JobStatus => (JOB_STATUSES as readonly string[]).includes(s));
}

/** The jobs list (a sweep is one expandable row) with filters and the page kept in the URL (?status=running,queued&type=merge&experiment=ID&page=2). */
export function JobsTable() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const urlStatus = params.get("status") ?? "";
  const urlType = params.get("type") ?? "";
  const experimentId = params.get("experiment") ?? undefined;
  // Local mirror of the URL filters so a checkbox reflects a click at once, before navigation completes.
  const [status, setStatus] = useState<JobStatus[]>(() => parseStatus(urlStatus));
  const [type, setType] = useState<string[]>(() => parseList(urlType));
  useEffect(() => setStatus(parseStatus(urlStatus)), [urlStatus]);
  useEffect(() => setType(parseList(urlType)), [urlType]);

  const page = Math.max(0, Number.parseInt(params.get("page") ?? "1", 10) - 1 || 0);
  const q = useQuery({
    ...trpc.jobs.groups.queryOptions({ status: status.length ? status : undefined, type: type.length ? type : undefined, experimentId, page, pageSize: PAGE_SIZE }),
    // Live progress: poll quickly while anything is queued or running.
    refetchInterval: (query) => (query.state.data && query.state.data.counts.queued + query.state.data.counts.running > 0 ? 1000 : 5000),
  });
  const pages = q.data ? Math.max(1, Math.ceil(q.data.totalRows / PAGE_SIZE)) : 1;

  function setFilter(key: string, values: string[]) {
    const next = new URLSearchParams(params.toString());
    if (values.length) next.set(key, values.join(","));
    else next.delete(key);
    if (key !== "page") next.delete("page"); // other filters, other pages
    router.replace(`${pathname}${next.size ? `?${next.toString()}` : ""}`, { scroll: false });
  }
  const toggle = (key: "status" | "type", current: string[], value: string) => {
    const next = current.includes(value) ? current.filter((v) => v !== value) : [...current, value];
    if (key === "status") setStatus(next as JobStatus[]);
    else setType(next);
    setFilter(key, next);
  };

  const counts = q.data?.counts ?? null;

  return (
    <section data-testid="jobs-table">
      <fieldset className="filters">
        <legend>Status</legend>
        {JOB_STATUSES.map((s) => (
          <label key={s}>
            <input type="checkbox" checked={status.includes(s)} onChange={() => toggle("status", status, s)} data-testid={`filter-status-${s}`} /> {s}
            {counts && status.length === 0 ? ` (${counts[s]})` : ""}
          </label>
        ))}
      </fieldset>
      <fieldset className="filters">
        <legend>Type</legend>
        {TYPES.map((t) => (
          <label key={t}>
            <input type="checkbox" checked={type.includes(t)} onChange={() => toggle("type", type, t)} /> {t}
          </label>
        ))}
        {experimentId && (
          <button type="button" onClick={() => setFilter("experiment", [])}>
            Show all experiments
          </button>
        )}
      </fieldset>
      {q.isPending && <p className="muted" role="status">Loading jobs…</p>}
      {q.isError && (
        <p className="error" role="alert">
          Could not load the jobs: {q.error.message}
        </p>
      )}
      {q.data && q.data.rows.length === 0 && (
        <p className="empty" data-testid="jobs-empty">
          No jobs {status.length || type.length ? "match these filters" : "yet"}. Queue a merge or a sweep from the merge builder.
        </p>
      )}
      {q.data && q.data.rows.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">Attempts</th>
              <th scope="col">Priority</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {q.data.rows.map((r) =>
              r.kind === "sweep" ? <SweepRow key={r.sweep.id} sweep={r.sweep} status={status} type={type} /> : <JobRow key={r.job.id} job={r.job} />,
            )}
          </tbody>
        </table>
      )}
      {q.data && pages > 1 && (
        <nav className="btn-row pager" aria-label="Pages of jobs">
          <button type="button" className="btn btn-small" disabled={page === 0} onClick={() => setFilter("page", page > 1 ? [String(page)] : [])}>
            Previous
          </button>
          <span data-testid="jobs-page">
            page {page + 1} of {pages} ({q.data.totalRows} rows)
          </span>
          <button type="button" className="btn btn-small" disabled={page + 1 >= pages} onClick={() => setFilter("page", [String(page + 2)])}>
            Next
          </button>
        </nav>
      )}
    </section>
  );
}
