"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useCallback } from "react";
import { ChartEmpty } from "@/components/charts/chart-empty";
import "@/components/charts/charts.css";
import { formatPct } from "@/components/charts/format";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { nearest, PAPER_DENSITIES } from "@/server/services/charts/sweep-select";
import { parseCompareState, serializeCompareState, type CompareState } from "./compare-state";
import { CompareChart } from "./compare-chart";
import { MarginChart } from "./margin-chart";
import { MethodsPanel } from "./methods-panel";
import { RecipeBlock } from "./recipe-block";
import { RescuedGroupsTable } from "./rescued-groups-table";
import { ShareBar } from "./share-bar";
import { useAnalysisUrlState } from "./use-analysis-url-state";

const int = (n: number | null | undefined) => (n === null || n === undefined ? "—" : Math.round(n).toLocaleString("en-US"));
const score = (v: number | null) => (v === null ? "" : v.toFixed(2));

/** TIES vs TIES-SV at one checkpoint: rescued parameters, discard rates, scores and recipes. */
export function CompareView() {
  const trpc = useTRPC();
  // The address bar is written a moment after a change (a replaceState per change re-rendered the page a second time).
  const [state, setState, flushUrl] = useAnalysisUrlState(parseCompareState, serializeCompareState);
  const patch = useCallback((p: Partial<CompareState>) => setState((s) => ({ ...s, ...p })), [setState]);
  const sweepQ = useQuery({ ...trpc.charts.sweep.queryOptions({ experimentId: state.experiment ?? "" }), enabled: !!state.experiment, staleTime: 60_000 });
  const sweep = sweepQ.data;
  const placeable = sweep?.checkpoints.filter((c) => c.tokensB !== null) ?? [];
  const ckptId = state.ckpt ?? placeable.at(-1)?.modelId ?? null;
  const sft = sweep ? (nearest(sweep.grid.sft, state.sft ?? PAPER_DENSITIES.sft) ?? state.sft ?? PAPER_DENSITIES.sft) : state.sft;
  const ct = sweep ? (nearest(sweep.grid.ct, state.ct ?? PAPER_DENSITIES.ct) ?? state.ct ?? PAPER_DENSITIES.ct) : state.ct;
  const q = useQuery({
    ...trpc.charts.compare.queryOptions({ experimentId: state.experiment ?? "", checkpointId: ckptId ?? "", sftDensity: sft, ctDensity: ct, slack: state.slack, split: state.split }),
    enabled: !!state.experiment && !!ckptId && !!sweep,
    placeholderData: keepPreviousData,
  });

  if (!state.experiment)
    return (
      <p className="alert alert-warn">
        No experiment in the link. Open the comparison from an experiment&apos;s <Link href="/analysis">analysis page</Link>.
      </p>
    );
  if (sweepQ.isError) return <ErrorAlert error={sweepQ.error} />;
  if (q.isError) return <ErrorAlert error={q.error} testId="compare-error" />;
  if (!sweep) return <p className="muted" role="status">Loading…</p>;
  if (!ckptId)
    return (
      <ChartEmpty title="This experiment has no CT checkpoint with a token count">
        <p>
          Enter the checkpoints&apos; token counts on the <Link href="/models">Models page</Link>.
        </p>
      </ChartEmpty>
    );
  const d = q.data;
  const analysisHref = `/analysis?experiment=${state.experiment}${sft !== null ? `&sft=${sft}` : ""}${ct !== null ? `&ct=${ct}` : ""}${state.slack !== null ? `&slack=${state.slack}` : ""}`;
  return (
    <div className="analysis" data-testid="compare-view">
      <div className="page-head">
        <div>
          <h1>TIES vs TIES-SV{d ? ` — ${d.checkpoint.label} CT tokens` : ""}</h1>
          <p className="lead">
            {sweep.experiment.name} · SFT {sweep.sft?.name ?? "—"} merged with {d?.checkpoint.name ?? "…"} · paper §6.2: TIES-SV keeps SFT parameters the sign election
            would discard · <Link href={analysisHref}>all figures</Link>
          </p>
        </div>
        <ShareBar path="/analysis/compare" beforeShare={flushUrl} />
      </div>
      <div className="chart-controls card" role="group" aria-label="Comparison settings">
        <label>
          Checkpoint
          <select value={ckptId} onChange={(e) => patch({ ckpt: e.target.value })} data-testid="compare-checkpoint">
            {placeable.map((c) => (
              <option key={c.modelId} value={c.modelId}>
                {c.label} — {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          k_sft
          <select value={String(sft)} onChange={(e) => patch({ sft: Number(e.target.value) })} data-testid="compare-sft">
            {(sweep.grid.sft.length ? sweep.grid.sft : [sft ?? 0.2]).map((v) => (
              <option key={v} value={String(v)}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <label>
          k_ct
          <select value={String(ct)} onChange={(e) => patch({ ct: Number(e.target.value) })} data-testid="compare-ct">
            {(sweep.grid.ct.length ? sweep.grid.ct : [ct ?? 1]).map((v) => (
              <option key={v} value={String(v)}>
                {v}
              </option>
            ))}
          </select>
        </label>
        {d && d.slackOptions.length > 1 ? (
          <label>
            slack
            <select value={String(d.slack)} onChange={(e) => patch({ slack: Number(e.target.value) })} data-testid="compare-slack">
              {d.slackOptions.map((v) => (
                <option key={v} value={String(v)}>
                  {v}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label>
          Split
          <select value={state.split} onChange={(e) => patch({ split: e.target.value === "dev" ? "dev" : "test" })}>
            <option value="test">test</option>
            <option value="dev">dev</option>
          </select>
        </label>
      </div>
      {!d ? (
        <p className="muted" role="status">
          Loading the comparison…
        </p>
      ) : (
        <>
          <section className="card" aria-labelledby="cmp-summary">
            <h2 id="cmp-summary">
              Sign election at k_sft {d.sftDensity}, k_ct {d.ctDensity}
              {d.slack !== null ? `, slack ${d.slack}` : ""}
            </h2>
            {!d.ties && !d.tiesSv ? (
              <ChartEmpty title="No TIES or TIES-SV analysis of this checkpoint at these densities">
                <p>Queue an analyze sweep with methods ties and ties_sv over this checkpoint (merge builder, or mergescope submit --analyze).</p>
              </ChartEmpty>
            ) : (
              <dl className="dl compare-dl">
                <dt>SFT parameters rescued</dt>
                <dd>
                  <strong data-testid="rescued-total" data-value={d.tiesSv?.sft.rescued}>
                    {d.tiesSv ? int(d.tiesSv.sft.rescued) : "—"}
                  </strong>
                  {d.tiesSv ? (
                    <span className="muted">
                      {" "}
                      of {int(d.tiesSv.svCandidates)} lost elections (candidates); reserved {int(d.tiesSv.svReserved)}
                      {d.tiesSv.slackBudget !== null ? `; slack budget ${int(d.tiesSv.slackBudget)}` : ""}
                      {d.tiesSv.slackScope ? ` (${d.tiesSv.slackScope} scope)` : ""}
                    </span>
                  ) : (
                    <span className="muted"> no TIES-SV analysis</span>
                  )}
                </dd>
                <dt>Discarded before (TIES)</dt>
                <dd>
                  <strong data-testid="discard-before">{d.ties ? formatPct(d.ties.discardedPct) : "—"}</strong>
                  {d.ties ? <span className="muted"> — {int(d.ties.sft.discarded)} of {int(d.ties.sft.nnzTrimmed)} trimmed SFT parameters</span> : null}
                </dd>
                <dt>Discarded after (TIES-SV)</dt>
                <dd>
                  <strong data-testid="discard-after">{d.tiesSv ? formatPct(d.tiesSv.discardedPct) : "—"}</strong>
                  {d.tiesSv ? <span className="muted"> — {int(d.tiesSv.sft.discarded)} of {int(d.tiesSv.sft.nnzTrimmed)} trimmed SFT parameters</span> : null}
                </dd>
                {d.ties && d.tiesSv && d.ties.discardedPct !== null && d.tiesSv.discardedPct !== null ? (
                  <>
                    <dt>Change</dt>
                    <dd data-testid="discard-change">{(d.tiesSv.discardedPct - d.ties.discardedPct).toFixed(4)} percentage points</dd>
                  </>
                ) : null}
              </dl>
            )}
          </section>
          {d.byLayer.length > 0 ? (
            <>
              <CompareChart groups={state.group === "layer" ? d.byLayer : d.byModule} group={state.group} tableOpen={state.ctable} patch={patch} />
              {d.margins ? <MarginChart margins={d.margins} state={state} patch={patch} /> : null}
              <section className="card" aria-labelledby="cmp-layer">
                <h2 id="cmp-layer">Rescued per layer</h2>
                <RescuedGroupsTable groups={d.byLayer} what="layer" testId="rescued-by-layer" />
              </section>
              <section className="card" aria-labelledby="cmp-module">
                <h2 id="cmp-module">Rescued per module</h2>
                <RescuedGroupsTable groups={d.byModule} what="module" testId="rescued-by-module" />
              </section>
            </>
          ) : null}
          {ckptId ? <MethodsPanel experimentId={state.experiment} checkpointId={ckptId} sftDensity={sft} ctDensity={ct} slack={state.slack} group={state.group} tableOpen={state.mtable} patch={patch} /> : null}
          <section className="card" aria-labelledby="cmp-scores">
            <h2 id="cmp-scores">Scores ({d.split} split)</h2>
            {d.scores.length === 0 ? (
              <p className="muted" data-testid="compare-no-scores">
                No {d.split} scores for the merged models yet. Merge both recipes (merge builder or a merge sweep), then evaluate or import their results on the{" "}
                <Link href="/scores">Scores page</Link>; this table fills in as scores arrive.
              </p>
            ) : (
              <div className="table-wrap">
                <table className="data" data-testid="compare-scores">
                  <thead>
                    <tr>
                      <th scope="col">Task</th>
                      <th scope="col" className="num">TIES</th>
                      <th scope="col" className="num">TIES-SV</th>
                      <th scope="col" className="num">TIES-SV − TIES</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.scores.map((s) => (
                      <tr key={s.task}>
                        <th scope="row">{s.label}</th>
                        <td className="num">{score(s.ties)}</td>
                        <td className="num">{score(s.tiesSv)}</td>
                        <td className={`num ${s.diff === null ? "" : s.diff >= 0 ? "diff-up" : "diff-down"}`}>{s.diff === null ? "" : `${s.diff >= 0 ? "+" : ""}${s.diff.toFixed(2)}`}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <div className="grid-2">
            <RecipeBlock title="TIES recipe" sources={d.recipes.ties} testId="recipe-ties" />
            <RecipeBlock title="TIES-SV recipe" sources={d.recipes.tiesSv} testId="recipe-ties-sv" />
          </div>
        </>
      )}
    </div>
  );
}
