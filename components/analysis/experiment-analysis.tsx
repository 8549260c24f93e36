"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useCallback, useDeferredValue, useMemo } from "react";
import { ChartEmpty } from "@/components/charts/chart-empty";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { indexSweep, snapSelection, type Selection } from "@/server/services/charts/sweep-select";
import type { AnalysisState, TableId } from "./analysis-state";
import { CheckpointFilter } from "./checkpoint-filter";
import { Figure2Panel } from "./figure2-panel";
import { GeometryPanel } from "./geometry-panel";
import { HeatmapPanel } from "./heatmap-panel";
import { ParallelPanel } from "./parallel-panel";
import { ScoreStatsPanel } from "./score-stats-panel";
import { ShareBar } from "./share-bar";
import { SweepFigures } from "./sweep-figures";

type Patch = Partial<AnalysisState>;

/** One experiment's figures: loads the sweep statistics once and lays out the explorer, Figures 3–4, the heatmap and Figure 2. */
export function ExperimentAnalysis({
  experimentId,
  state,
  patch,
  onTable,
  flushUrl,
}: {
  experimentId: string;
  state: AnalysisState;
  patch: (p: Patch) => void;
  onTable: (id: TableId, open: boolean) => void;
  flushUrl: () => void;
}) {
  const trpc = useTRPC();
  const sweepQ = useQuery({
    ...trpc.charts.sweep.queryOptions({ experimentId }),
    // While analyses are queued or running, poll so the figures fill in; otherwise the loaded statistics are all the explorer needs.
    refetchInterval: (q) => (q.state.data?.pendingJobs ? 3000 : false),
    refetchOnWindowFocus: false,
    staleTime: 60_000,
  });
  const sweep = sweepQ.data;
  const index = useMemo(() => (sweep ? indexSweep(sweep) : null), [sweep]);
  const sel = useMemo(() => (sweep ? snapSelection(sweep, { sft: state.sft, ct: state.ct, slack: state.slack }) : null), [sweep, state.sft, state.ct, state.slack]);
  const onSel = useCallback((s: Selection) => patch({ sft: s.sftDensity, ct: s.ctDensity, slack: s.slack }), [patch]);
  const onKind = useCallback((kind: "area" | "bars") => patch({ kind }), [patch]);
  const onXCkpt = useCallback((xCkpt: string) => patch({ xCkpt }), [patch]);
  const onCkpts = useCallback((ckpts: string[] | null) => patch({ ckpts }), [patch]);
  const onFig2 = useCallback((p: Patch) => patch(p), [patch]);
  const onHeatmap = useCallback((p: Patch) => patch(p), [patch]);
  const tokens = useMemo(
    () => (sweep && state.ckpts ? sweep.checkpoints.filter((c) => state.ckpts!.includes(c.modelId) && c.tokensB !== null).map((c) => c.tokensB!) : null),
    [sweep, state.ckpts],
  );
  // Figures 3–4 follow the sliders at once; the heatmap (a request per analysis) and Figure 2 catch up right after.
  const laterSel = useDeferredValue(sel);
  const fig2Sel = state.f2dens === "explorer" ? laterSel : null;

  const pending = sweep?.pendingJobs ?? 0;
  const emptyHelp = useMemo(
    () => (
      <ChartEmpty title="No TIES / TIES-SV analyses for this experiment yet" testId="sweep-empty">
        <p>
          Figures 3–4 and the explorer read analyze jobs: one per CT checkpoint × method × density pair. Queue a sweep of type &ldquo;analyze&rdquo; in the{" "}
          <Link href={`/builder?exp=${experimentId}`}>merge builder</Link>, or from the command line:
        </p>
        <pre className="cmd">mergescope submit recipe.yml --analyze --sweep-checkpoints CT1,CT2 --sweep-methods ties,ties_sv --sweep-densities &apos;0.1,0.2,0.4;0.6,1.0&apos;</pre>
        {pending > 0 ? <p>{pending} analyze jobs are queued or running: the figures fill in as they finish.</p> : null}
      </ChartEmpty>
    ),
    [experimentId, pending],
  );

  if (sweepQ.isError) return <ErrorAlert error={sweepQ.error} testId="analysis-error" />;
  if (!sweep || !index || !sel) return <p className="muted" role="status">Loading the experiment&apos;s statistics…</p>;

  return (
    <div className="analysis" data-testid="analysis-view" data-experiment={experimentId}>
      <div className="page-head">
        <div>
          <h1>Analysis — {sweep.experiment.name}</h1>
          <p className="lead">
            Language {sweep.experiment.language} · SFT {sweep.sft?.name ?? "—"} · {sweep.checkpoints.length} CT checkpoint{sweep.checkpoints.length === 1 ? "" : "s"} ·{" "}
            <Link href={`/experiments/${experimentId}`}>experiment page</Link> · <Link href={`/jobs?experiment=${experimentId}`}>jobs</Link>
          </p>
        </div>
        <ShareBar path="/analysis" beforeShare={flushUrl} />
      </div>
      {sweep.pendingJobs > 0 ? (
        <p className="alert alert-warn" role="status" data-testid="pending-analyses">
          {sweep.pendingJobs} analyze job{sweep.pendingJobs === 1 ? " is" : "s are"} queued or running; the figures update as they finish.
        </p>
      ) : null}
      {sweep.checkpoints.some((c) => c.tokensB === null) ? (
        <p className="alert alert-warn">
          Checkpoints without a CT token count cannot be placed on the x axis: {sweep.checkpoints.filter((c) => c.tokensB === null).map((c) => c.name).join(", ")}. Enter their
          token counts on the <Link href="/models">Models page</Link>.
        </p>
      ) : null}
      <CheckpointFilter checkpoints={sweep.checkpoints} selected={state.ckpts} onChange={onCkpts} />
      <SweepFigures
        sweep={sweep}
        index={index}
        sel={sel}
        kind={state.kind}
        ckpts={state.ckpts}
        xCkpt={state.xCkpt}
        tables={state.tables}
        onSel={onSel}
        onKind={onKind}
        onXCkpt={onXCkpt}
        onTable={onTable}
        emptyHelp={emptyHelp}
      />
      <GeometryPanel
        experimentId={experimentId}
        jaccardSel={state.geom === "jaccard" ? (laterSel ?? sel) : null}
        ckpts={state.ckpts}
        by={state.geo}
        metric={state.geom}
        pending={pending > 0}
        tableOpen={state.tables.includes("geometry")}
        onChange={patch}
        onTable={onTable}
      />
      {sweep.points.length > 0 ? (
        <HeatmapPanel
          experimentId={experimentId}
          index={index}
          sel={laterSel ?? sel}
          split={state.split}
          checkpointId={state.hmCkpt}
          method={state.hmMethod}
          tableOpen={state.tables.includes("heatmap")}
          onChange={onHeatmap}
          onTable={onTable}
        />
      ) : null}
      <Figure2Panel
        experimentId={experimentId}
        split={state.split}
        task={state.task}
        families={state.methods}
        densities={state.f2dens}
        sel={fig2Sel}
        paper={state.paper}
        xlog={state.xlog}
        tokens={tokens}
        tableOpen={state.tables.includes("fig2")}
        onChange={onFig2}
        onTable={onTable}
      />
      <ScoreStatsPanel
        experimentId={experimentId}
        split={state.split}
        task={state.task}
        statistic={state.stat}
        tableOpen={state.tables.includes("stats")}
        onChange={patch}
        onTable={onTable}
      />
      <ParallelPanel
        experimentId={experimentId}
        split={state.split}
        task={state.task}
        brushes={state.pc}
        tableOpen={state.tables.includes("parallel")}
        onBrushes={(pc) => patch({ pc })}
        onTable={onTable}
      />
      {sweep.skipped.length > 0 ? (
        <details className="card">
          <summary>
            {sweep.skipped.length} analys{sweep.skipped.length === 1 ? "is" : "es"} of this experiment not shown
          </summary>
          <ul>
            {sweep.skipped.slice(0, 50).map((s) => (
              <li key={s.analysisId}>
                {s.method}: {s.reason}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}
