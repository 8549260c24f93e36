"use client";

import { keepPreviousData, skipToken, useMutation, useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useId, useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { formatTokens } from "@/components/common/format";
import { useDebounced } from "@/components/common/use-debounced";
import { useTRPC } from "@/components/providers/trpc";
import type { BuilderSettings } from "@/server/services/builder/schemas";
import type { ModelSummary } from "@/server/services/models/schemas";
import { DensityListField } from "./density-list-field";
import { METHOD_INFO, METHODS, PAPER_GRID, type Method, usesDensity } from "./methods";
import { jobsHref } from "./queue-merge";
import { RecipeIssues } from "./recipe-issues";
import type { BuilderState } from "./url-state";

type SweepState = Pick<BuilderState, "sweepType" | "sweepCts" | "sweepMethods" | "sweepDensities">;

/** Queue one job per CT checkpoint × method × density combination (jobs.sweep, one call per method). */
export function SweepPanel({
  state,
  onChange,
  settings,
  checkpoints,
  defaultCts,
  nameOf,
}: {
  state: BuilderState;
  onChange: (patch: Partial<SweepState>) => void;
  settings: BuilderSettings | null;
  /** The CT checkpoints one can sweep over (the experiment's, or every CT model). */
  checkpoints: ModelSummary[];
  defaultCts: string[];
  nameOf: (id: string) => string;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const id = useId();
  const cts = (state.sweepCts ?? defaultCts).filter((x) => checkpoints.some((c) => c.id === x));
  const methods = state.sweepMethods ?? [state.method];
  const densities =
    state.sweepDensities && state.sweepDensities.length === state.models.length && state.sweepDensities.every((d) => d.length > 0)
      ? state.sweepDensities
      : state.models.map((m) => [m.density]);
  const input = settings && cts.length > 0 && methods.length > 0 ? { settings, type: state.sweepType, checkpointIds: cts, methods, densities } : null;
  const debounced = useDebounced(input, 300);
  const plan = useQuery(trpc.builder.sweepPlan.queryOptions(debounced ?? skipToken, { placeholderData: keepPreviousData }));
  const sweep = useMutation(trpc.jobs.sweep.mutationOptions());
  const [queued, setQueued] = useState<{ created: number; total: number } | null>(null);
  const upToDate = JSON.stringify(debounced) === JSON.stringify(input) && !plan.isFetching && !plan.isPlaceholderData;

  async function queue() {
    if (!plan.data?.ok) return;
    let created = 0;
    let total = 0;
    for (const r of plan.data.requests) {
      const out = await sweep.mutateAsync(r);
      created += out.created;
      total += out.jobs.length;
    }
    setQueued({ created, total });
    router.push(jobsHref(state.exp));
  }

  const toggle = <T,>(list: T[], v: T, on: boolean) => (on ? [...list, v] : list.filter((x) => x !== v));
  const anyDensity = methods.some(usesDensity);
  return (
    <section className="card stack" aria-labelledby={`${id}-title`} data-testid="sweep-panel">
      <h2 id={`${id}-title`}>Sweep</h2>
      <p className="hint" style={{ marginTop: 0 }}>
        One job per CT checkpoint × method × density combination, built from the recipe above with the checkpoint in place of its CT model.
      </p>
      <fieldset>
        <legend>Job type</legend>
        <div className="checklist">
          {(["merge", "analyze"] as const).map((t) => (
            <label key={t}>
              <input type="radio" name={`${id}-type`} checked={state.sweepType === t} onChange={() => onChange({ sweepType: t })} />
              {t === "merge" ? "merge (write merged models)" : "analyze (sign-conflict statistics only)"}
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset data-testid="sweep-checkpoints">
        <legend>CT checkpoints</legend>
        {checkpoints.length === 0 ? (
          <p className="hint">No CT checkpoints: pick an experiment, or register CT checkpoints on the Models page.</p>
        ) : (
          <>
            <div className="checklist">
              {checkpoints.map((c) => (
                <label key={c.id}>
                  <input type="checkbox" checked={cts.includes(c.id)} onChange={(e) => onChange({ sweepCts: toggle(cts, c.id, e.target.checked) })} />
                  {c.name}
                  {c.ctTokens !== null ? <span className="muted"> ({formatTokens(c.ctTokens)})</span> : null}
                </label>
              ))}
            </div>
            <div className="btn-row" style={{ marginTop: "0.4rem" }}>
              <button type="button" className="btn btn-small" onClick={() => onChange({ sweepCts: checkpoints.map((c) => c.id) })}>All checkpoints</button>
              <button type="button" className="btn btn-small" onClick={() => onChange({ sweepCts: [] })}>None</button>
            </div>
          </>
        )}
      </fieldset>
      <fieldset data-testid="sweep-methods">
        <legend>Methods</legend>
        <div className="checklist">
          {METHODS.map((m) => (
            <label key={m}>
              <input type="checkbox" checked={methods.includes(m)} onChange={(e) => onChange({ sweepMethods: toggle<Method>(methods, m, e.target.checked) })} />
              {METHOD_INFO[m].label}
            </label>
          ))}
        </div>
      </fieldset>
      {anyDensity && state.models.length > 0 ? (
        <fieldset data-testid="sweep-densities">
          <legend>Densities (trimming methods)</legend>
          <div className="stack">
            {state.models.map((m, i) => (
              <DensityListField
                key={`${i}-${m.id}`}
                id={`${id}-d${i}`}
                label={`models[${i}] ${nameOf(m.id)}`}
                value={densities[i] ?? [m.density]}
                onChange={(v) => onChange({ sweepDensities: densities.map((d, j) => (j === i ? v : d)) })}
              />
            ))}
            <div className="btn-row">
              <button type="button" className="btn btn-small" onClick={() => onChange({ sweepDensities: state.models.map(() => [...PAPER_GRID]) })}>
                Paper grid for every model
              </button>
            </div>
          </div>
        </fieldset>
      ) : null}
      {input === null ? (
        <p className="hint">Tick at least one checkpoint and one method (and build a recipe above).</p>
      ) : plan.isError ? (
        <ErrorAlert error={plan.error} prefix="Could not plan the sweep:" />
      ) : plan.data ? (
        <>
          <RecipeIssues issues={plan.data.issues} testId="sweep-issue" />
          {plan.data.ok ? (
            <p className="hint" role="status" data-testid="sweep-count">
              {upToDate ? `${plan.data.jobCount} ${state.sweepType} job${plan.data.jobCount === 1 ? "" : "s"}` : "Counting…"}
            </p>
          ) : null}
        </>
      ) : (
        <p role="status" className="hint">Planning…</p>
      )}
      <div className="btn-row">
        <button type="button" className="btn btn-primary" onClick={queue} disabled={!upToDate || !plan.data?.ok || sweep.isPending || input === null}>
          {sweep.isPending ? "Queueing…" : "Queue sweep"}
        </button>
      </div>
      {sweep.isError ? <ErrorAlert error={sweep.error} testId="queue-sweep-error" prefix="Sweep not (fully) queued:" /> : null}
      {queued ? <p role="status" className="alert alert-ok">{queued.created} new jobs ({queued.total} in the sweep).</p> : null}
    </section>
  );
}
