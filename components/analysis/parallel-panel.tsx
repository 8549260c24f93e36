"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { memo, useMemo } from "react";
import { passesBrushes } from "@/components/charts/brushes";
import { ParallelCoordinates, type ParallelAxis } from "@/components/charts/parallel-coordinates";
import type { Brushes, ChartRow, ChartTable } from "@/components/charts/types";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import type { TableId } from "./analysis-state";
import { mergeRows, methodConfig } from "./merge-points";

export interface ParallelPanelProps {
  experimentId: string;
  split: "dev" | "test";
  task: string;
  brushes: Brushes;
  tableOpen: boolean;
  onBrushes: (b: Brushes) => void;
  onTable: (id: TableId, open: boolean) => void;
}

const score = (v: number | null) => (v === null ? "—" : v.toFixed(2));

/** Every merge across checkpoint tokens, method, densities, λ, slack and its statistics → score; brushing an axis filters the merge list below. */
export const ParallelPanel = memo(function ParallelPanel(props: ParallelPanelProps) {
  const trpc = useTRPC();
  const q = useQuery({
    ...trpc.charts.scoreStats.queryOptions({ experimentId: props.experimentId, split: props.split, task: props.task, statistic: "sftDiscardPct" }),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const d = q.data;
  const view = useMemo(() => {
    if (!d) return null;
    const config = methodConfig(d.points);
    const methods = Object.keys(config);
    // The parallel view names the statistic and the score by their axes.
    const rows: ChartRow[] = mergeRows(d.points).map(({ x, y, ...r }) => ({ ...r, sftDiscardPct: x ?? null, score: y ?? null }));
    const axes: ParallelAxis[] = [
      { key: "tokensB", label: "CT tokens (B)", kind: "number" },
      { key: "method", label: "method", kind: "category", categories: methods.map((m) => config[m]!.label) },
      { key: "sftDensity", label: "k_sft", kind: "number" },
      { key: "ctDensity", label: "k_ct", kind: "number" },
      { key: "lambda", label: "λ", kind: "number" },
      ...(rows.some((r) => r.slack !== null) ? [{ key: "slack", label: "slack", kind: "number" as const }] : []),
      { key: "sftDiscardPct", label: "SFT discard %", kind: "number" },
      { key: "score", label: "score", kind: "number" },
    ];
    const table: ChartTable = {
      columns: [
        { key: "label", label: "merge", kind: "text" },
        ...axes.map((a) => ({ key: a.key, label: a.label, kind: a.kind === "category" ? ("text" as const) : a.key === "score" || a.key === "sftDiscardPct" ? ("number" as const) : ("density" as const) })),
      ],
      rows,
    };
    return { rows, axes, config, table };
  }, [d]);
  if (q.isError) return <ErrorAlert error={q.error} prefix="Parallel coordinates:" />;
  if (!d || !view) return <p className="muted" role="status">Loading the merges…</p>;
  const selected = view.rows.filter((r) => passesBrushes(r, props.brushes));
  const brushed = Object.keys(props.brushes).length > 0;
  return (
    <>
      <ParallelCoordinates
        title="Merges across their parameters"
        subtitle={`${d.scoreLabel}, ${d.split} split — drag along an axis to filter`}
        data={view.rows}
        axes={view.axes}
        config={view.config}
        brushes={props.brushes}
        onBrushesChange={props.onBrushes}
        table={view.table}
        tableOpen={props.tableOpen}
        onTableOpenChange={(open) => props.onTable("parallel", open)}
        empty={view.rows.length === 0 ? <p>No finished merge of this experiment yet: queue a merge sweep from the merge builder.</p> : undefined}
      />
      {view.rows.length > 0 && (
        <section className="card" aria-labelledby="pc-merges-title" data-testid="pc-merges">
          <h2 id="pc-merges-title">
            Merges <span className="muted" data-testid="pc-count">{brushed ? `${selected.length} of ${view.rows.length} selected` : `${view.rows.length}`}</span>
          </h2>
          {brushed ? (
            <button type="button" className="btn btn-small" onClick={() => props.onBrushes({})}>
              Clear the filters
            </button>
          ) : null}
          <div className="table-wrap">
            <table className="data">
              <thead>
                <tr>
                  <th scope="col">Merge</th>
                  <th scope="col" className="num">CT tokens (B)</th>
                  <th scope="col" className="num">SFT discard %</th>
                  <th scope="col" className="num">Score</th>
                </tr>
              </thead>
              <tbody>
                {selected.map((r) => (
                  <tr key={String(r.jobId)} data-testid="pc-merge" data-job-id={String(r.jobId)}>
                    <td>{String(r.label)}</td>
                    <td className="num">{r.tokensB ?? "—"}</td>
                    <td className="num">{typeof r.sftDiscardPct === "number" ? r.sftDiscardPct.toFixed(2) : "—"}</td>
                    <td className="num">{score(r.score as number | null)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </>
  );
});
