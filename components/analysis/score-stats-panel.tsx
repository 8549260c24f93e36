"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { memo, useMemo } from "react";
import { ScoreScatterChart } from "@/components/charts/score-scatter-chart";
import type { ChartTable } from "@/components/charts/types";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { SCORE_STATISTICS, type ScoreStatistic, type TableId } from "./analysis-state";
import { mergeRows, methodConfig } from "./merge-points";

export interface ScoreStatsPanelProps {
  experimentId: string;
  split: "dev" | "test";
  task: string;
  statistic: ScoreStatistic;
  tableOpen: boolean;
  onChange: (patch: { stat: ScoreStatistic }) => void;
  onTable: (id: TableId, open: boolean) => void;
}

/** Scores against a merge statistic (the score chosen for Figure 2): does discarding more of the SFT model cost score? */
export const ScoreStatsPanel = memo(function ScoreStatsPanel(props: ScoreStatsPanelProps) {
  const trpc = useTRPC();
  const q = useQuery({
    ...trpc.charts.scoreStats.queryOptions({ experimentId: props.experimentId, split: props.split, task: props.task, statistic: props.statistic }),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const d = q.data;
  const view = useMemo(() => {
    if (!d) return null;
    const drawn = d.points.filter((p) => p.x !== null && p.y !== null);
    const groups = [...new Set(drawn.map((p) => p.method))];
    const config = methodConfig(d.points);
    const rows = mergeRows(d.points);
    const xs = drawn.map((p) => p.x!);
    const fit = d.fit && xs.length ? { x1: Math.min(...xs), x2: Math.max(...xs), y1: d.fit.intercept + d.fit.slope * Math.min(...xs), y2: d.fit.intercept + d.fit.slope * Math.max(...xs), r: d.fit.r, n: d.fit.n } : null;
    const table: ChartTable = {
      columns: [
        { key: "label", label: "merge", kind: "text" },
        { key: "method", label: "method", kind: "text" },
        { key: "tokensB", label: "CT tokens (B)", kind: "tokens" },
        { key: "sftDensity", label: "k_sft", kind: "density" },
        { key: "ctDensity", label: "k_ct", kind: "density" },
        { key: "slack", label: "slack", kind: "density" },
        { key: "x", label: d.statisticLabel, kind: "number" },
        { key: "y", label: d.scoreLabel, kind: "number" },
      ],
      rows,
    };
    return { rows: rows.filter((r) => r.x !== null && r.y !== null), groups, config, fit, table, drawn: drawn.length };
  }, [d]);
  if (q.isError) return <ErrorAlert error={q.error} prefix="Scores against statistics:" />;
  if (!d || !view) return <p className="muted" role="status">Loading scores against statistics…</p>;
  return (
    <ScoreScatterChart
      title="Scores against merge statistics"
      subtitle={`${d.scoreLabel}, ${d.split} split`}
      data={view.rows}
      groups={view.groups}
      config={view.config}
      xLabel={d.statisticLabel}
      yLabel="score"
      fit={view.fit}
      table={view.table}
      tableOpen={props.tableOpen}
      onTableOpenChange={(open) => props.onTable("stats", open)}
      empty={
        view.drawn === 0 ? (
          <p data-testid="score-stats-empty">
            {d.points.length === 0
              ? "No finished merge of this experiment yet: queue a merge sweep from the merge builder."
              : `${d.points.length} merge(s), none with both a score and this statistic yet: import or evaluate their results (Scores page).`}
          </p>
        ) : undefined
      }
      caption={
        d.fit ? (
          <span data-testid="score-stats-fit">
            least squares: score = {d.fit.intercept.toFixed(3)} + {d.fit.slope.toFixed(4)} × statistic; r = {d.fit.r.toFixed(3)} over {d.fit.n} merges
          </span>
        ) : (
          "too few merges with both values (or no spread) to fit a line"
        )
      }
      controls={
        <label>
          Statistic
          <select value={props.statistic} onChange={(e) => props.onChange({ stat: e.target.value as ScoreStatistic })} data-testid="score-stats-statistic">
            {SCORE_STATISTICS.map((s) => (
              <option key={s} value={s}>
                {d.statistics.find((x) => x.key === s)?.label ?? s}
              </option>
            ))}
          </select>
        </label>
      }
    />
  );
});
