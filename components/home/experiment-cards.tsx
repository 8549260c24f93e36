"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { DiscardThumbnail } from "@/components/charts/discard-thumbnail";
import { useTRPC, type RouterOutputs } from "@/components/providers/trpc";

type Overview = RouterOutputs["experiments"]["overview"][number];

const pct = (v: number | null) => (v === null ? "—" : `${v.toFixed(1)} %`);

function thumbnailSummary(e: Overview): string {
  const t = e.thumbnail!;
  const pts = t.points.map((p) => `${p.label}: TIES ${pct(p.ties)}, TIES-SV ${pct(p.tiesSv)}`).join("; ");
  return `Figure 4 at k=${t.sftDensity}/${t.ctDensity}: SFT parameters discarded by the sign election — ${pts}`;
}

function ExperimentCard({ e }: { e: Overview }) {
  const active = e.jobs.queued + e.jobs.running;
  return (
    <article className="card experiment-card" data-testid="experiment-card" data-experiment-id={e.id}>
      <h3>
        <Link href={`/analysis?experiment=${e.id}`}>{e.name}</Link>
      </h3>
      <p className="muted">
        {e.language} · {e.checkpoints} CT checkpoint{e.checkpoints === 1 ? "" : "s"} · {e.jobs.done} job{e.jobs.done === 1 ? "" : "s"} done
        {active ? ` · ${active} queued or running` : ""}
        {e.jobs.failed ? ` · ${e.jobs.failed} failed` : ""}
      </p>
      {e.thumbnail && e.thumbnail.points.length > 0 ? (
        <>
          <DiscardThumbnail data={e.thumbnail.points} summary={thumbnailSummary(e)} />
          <p className="hint">
            SFT discard rate along the CT tokens, TIES (blue) and TIES-SV (green), k={e.thumbnail.sftDensity}/{e.thumbnail.ctDensity}
          </p>
        </>
      ) : (
        <p className="hint">No analysis yet: queue a sweep from the merge builder.</p>
      )}
      <div className="btn-row">
        <Link className="btn btn-small" href={`/analysis?experiment=${e.id}`}>
          Figures 2–4
        </Link>
        <Link className="btn btn-small" href={`/experiments/${e.id}`}>
          Experiment
        </Link>
        <Link className="btn btn-small" href={`/jobs?experiment=${e.id}`}>
          Jobs
        </Link>
      </div>
    </article>
  );
}

/** The newest experiments with a Figure 4 thumbnail and links into their charts; the demo first as a call to action. */
export function ExperimentCards() {
  const trpc = useTRPC();
  const q = useQuery({
    ...trpc.experiments.overview.queryOptions(),
    refetchInterval: (query) => (query.state.data?.some((e) => e.jobs.queued + e.jobs.running > 0) ? 3000 : false),
  });
  if (q.isPending) return <p className="muted" role="status">Loading experiments…</p>;
  if (q.isError) return <p className="error" role="alert">Could not load the experiments: {q.error.message}</p>;
  const demo = q.data.find((e) => e.demo);
  return (
    <section aria-labelledby="home-experiments" data-testid="home-experiments">
      <h2 id="home-experiments">Experiments</h2>
      {demo && (
        <p>
          <Link className="btn" href={`/analysis?experiment=${demo.id}`} data-testid="open-demo">
            Open the demo&apos;s charts
          </Link>{" "}
          <span className="muted">a synthetic CT series, merged and analysed on this server (not real data)</span>
        </p>
      )}
      {q.data.length === 0 ? (
        <p className="empty">
          No experiment yet. <Link href="/models">Register a base, an SFT model and CT checkpoints</Link>, then <Link href="/experiments">create an experiment</Link>.
        </p>
      ) : (
        <div className="card-grid">
          {q.data.map((e) => (
            <ExperimentCard key={e.id} e={e} />
          ))}
        </div>
      )}
    </section>
  );
}
