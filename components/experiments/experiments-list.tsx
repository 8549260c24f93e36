"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useId } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { formatDate } from "@/components/common/format";
import { SyntheticBadge } from "@/components/common/synthetic-badge";
import { useDebounced } from "@/components/common/use-debounced";
import { useUrlState } from "@/components/common/use-url-state";
import { useTRPC } from "@/components/providers/trpc";
import { JobCounts } from "./job-counts";

const parse = (p: URLSearchParams) => ({ language: p.get("lang") ?? "" });
const serialize = (s: { language: string }) => new URLSearchParams(s.language ? { lang: s.language } : {});

/** All experiments, optionally for one language (filter in the URL). */
export function ExperimentsList() {
  const trpc = useTRPC();
  const id = useId();
  const [filter, setFilter] = useUrlState(parse, serialize);
  const language = useDebounced(filter.language.trim(), 250);
  const list = useQuery({
    ...trpc.experiments.list.queryOptions(language ? { language } : {}, { placeholderData: keepPreviousData }),
    refetchInterval: 10_000,
  });
  return (
    <section className="card stack" aria-labelledby={`${id}-title`} data-testid="experiments-list">
      <div className="page-head">
        <h2 id={`${id}-title`}>All experiments</h2>
        <div className="field">
          <label htmlFor={`${id}-lang`}>Language</label>
          <input id={`${id}-lang`} type="search" value={filter.language} onChange={(e) => setFilter({ language: e.target.value })} placeholder="any" size={10} />
        </div>
      </div>
      {list.isPending ? (
        <p role="status" className="muted">Loading experiments…</p>
      ) : list.isError ? (
        <ErrorAlert error={list.error} prefix="Could not load the experiments:" />
      ) : list.data.length === 0 ? (
        <p className="empty" data-testid="experiments-empty">
          {language ? `No experiment for '${language}'.` : "No experiments yet: create one with the form below."}
        </p>
      ) : (
        <div className="table-wrap">
          <table className="data">
            <caption className="sr-only">Experiments</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Language</th>
                <th scope="col">Base</th>
                <th scope="col">SFT</th>
                <th scope="col" className="num">CT checkpoints</th>
                <th scope="col">Jobs</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((e) => (
                <tr key={e.id} data-testid="experiment-row" data-name={e.name}>
                  <td>
                    <Link href={`/experiments/${e.id}`}>{e.name}</Link>
                    {e.synthetic ? <SyntheticBadge /> : null}
                  </td>
                  <td>{e.language}</td>
                  <td>{e.baseModel?.name ?? "—"}</td>
                  <td>{e.sftModel?.name ?? "—"}</td>
                  <td className="num">{e.ctCount}{e.ctsftCount ? ` (+${e.ctsftCount} CTSFT)` : ""}</td>
                  <td><JobCounts counts={e.jobs} /></td>
                  <td>{formatDate(e.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
