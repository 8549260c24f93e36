"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";

/** Shown when the URL names no experiment: pick one. */
export function ExperimentPicker({ onPick }: { onPick: (id: string) => void }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.experiments.list.queryOptions({}));
  if (q.isPending) return <p className="muted" role="status">Loading experiments…</p>;
  if (q.isError) return <ErrorAlert error={q.error} />;
  if (q.data.length === 0)
    return (
      <div className="empty" data-testid="analysis-no-experiments">
        <p>
          No experiments yet. <Link href="/experiments">Create one</Link> (a base model, an SFT model and a series of CT checkpoints), then run an analysis sweep over its
          checkpoints.
        </p>
      </div>
    );
  return (
    <section className="card" aria-labelledby="pick-exp">
      <h2 id="pick-exp">Choose an experiment</h2>
      <ul className="experiment-pick">
        {q.data.map((e) => (
          <li key={e.id}>
            <button type="button" className="btn" onClick={() => onPick(e.id)} data-testid="pick-experiment">
              {e.name}
            </button>{" "}
            <span className="muted">
              {e.language} · {e.ctCount} CT checkpoint{e.ctCount === 1 ? "" : "s"} · {e.jobs.done} finished job{e.jobs.done === 1 ? "" : "s"}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
