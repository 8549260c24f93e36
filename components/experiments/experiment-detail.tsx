"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { describeError } from "@/components/common/describe-error";
import { ErrorAlert } from "@/components/common/error-alert";
import { formatDate } from "@/components/common/format";
import { SyntheticBadge } from "@/components/common/synthetic-badge";
import { useTRPC } from "@/components/providers/trpc";
import { DeleteExperiment } from "./delete-experiment";
import { EvalTemplateSelect } from "./eval-template-select";
import { ExperimentJobs } from "./experiment-jobs";
import { ExperimentModels } from "./experiment-models";
import { JobCounts } from "./job-counts";
import { LineageGraph } from "./lineage-graph";

/** One experiment: its lineage graph (Figure 1), models and jobs. */
export function ExperimentDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const exp = useQuery({
    ...trpc.experiments.get.queryOptions({ id }),
    refetchInterval: (q) => (q.state.data && (q.state.data.jobs.queued > 0 || q.state.data.jobs.running > 0) ? 3_000 : 20_000),
    retry: (count, err) => describeError(err).code !== "NOT_FOUND" && count < 1,
  });
  if (exp.isPending) return <p role="status" className="muted">Loading the experiment…</p>;
  if (exp.isError) {
    return (
      <div data-testid="experiment-error">
        <h1>Experiment</h1>
        <ErrorAlert error={exp.error} prefix="Could not load the experiment:" />
        <p><Link href="/experiments">Back to the experiments</Link></p>
      </div>
    );
  }
  const e = exp.data;
  const builderHref = `/builder?exp=${encodeURIComponent(e.id)}`;
  return (
    <div data-testid="experiment-detail" data-experiment-id={e.id}>
      <p className="hint"><Link href="/experiments">Experiments</Link> /</p>
      <div className="page-head">
        <div>
          <h1>
            {e.name}
            {e.synthetic ? <SyntheticBadge /> : null}
          </h1>
          {e.description ? <p className="lead">{e.description}</p> : null}
        </div>
        <div className="btn-row">
          <Link className="btn btn-primary" href={builderHref} data-testid="open-builder">Open in merge builder</Link>
          <Link className="btn" href={`/jobs?experiment=${encodeURIComponent(e.id)}`}>Jobs page</Link>
        </div>
      </div>
      <dl className="dl card">
        <dt>Target language</dt>
        <dd>{e.language}</dd>
        <dt>Base → SFT</dt>
        <dd>{e.baseModel?.name ?? "—"} → {e.sftModel?.name ?? "—"}</dd>
        <dt>CT checkpoints</dt>
        <dd>{e.ctCount}{e.ctsftCount ? `, ${e.ctsftCount} CTSFT` : ""}{e.extraCount ? `, ${e.extraCount} extra` : ""}</dd>
        <dt>Jobs</dt>
        <dd><JobCounts counts={e.jobs} /></dd>
        <dt>Evaluate merges with</dt>
        <dd><EvalTemplateSelect experimentId={e.id} templateId={e.evalTemplateId} /></dd>
        <dt>Created</dt>
        <dd>{formatDate(e.createdAt)}{e.createdBy ? ` by ${e.createdBy}` : ""}</dd>
      </dl>
      <section className="card" aria-labelledby="lineage-title">
        <h2 id="lineage-title">Lineage</h2>
        <LineageGraph lineage={e.lineage} experimentId={e.id} name={e.name} />
      </section>
      <section className="card" aria-labelledby="models-title">
        <h2 id="models-title">Models</h2>
        <ExperimentModels models={e.models} />
      </section>
      <section className="card" aria-labelledby="jobs-title">
        <div className="page-head">
          <h2 id="jobs-title">Jobs</h2>
          <Link className="btn btn-small" href={builderHref}>New merge or sweep</Link>
        </div>
        <ExperimentJobs experimentId={e.id} />
      </section>
      <DeleteExperiment id={e.id} name={e.name} />
    </div>
  );
}
