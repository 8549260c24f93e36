"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { memo, useMemo } from "react";
import { ChartEmpty } from "@/components/charts/chart-empty";
import { GeometrySeriesChart } from "@/components/charts/geometry-series-chart";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import type { Selection } from "@/server/services/charts/sweep-select";
import type { TableId } from "./analysis-state";
import { GEOMETRY_METRIC_LABELS, GEOMETRY_METRICS, geometryView, type GeometryGrouping, type GeometryMetric } from "./geometry-data";

export interface GeometryPanelProps {
  experimentId: string;
  /** The density pair of the Jaccard overlap (null unless the right axis shows it: the panel then ignores the sliders). */
  jaccardSel: Selection | null;
  /** Checkpoints shown (null = all). */
  ckpts: string[] | null;
  by: GeometryGrouping;
  metric: GeometryMetric;
  /** Poll while the experiment's analyses are still running. */
  pending: boolean;
  tableOpen: boolean;
  onChange: (patch: { geo?: GeometryGrouping; geom?: GeometryMetric }) => void;
  onTable: (id: TableId, open: boolean) => void;
}

/** Task-vector geometry along the CT series, beside Figure 4: does the CT task vector grow, and turn away from the SFT's, as the discards rise? */
export const GeometryPanel = memo(function GeometryPanel(props: GeometryPanelProps) {
  const trpc = useTRPC();
  const q = useQuery({
    ...trpc.charts.geometry.queryOptions({ experimentId: props.experimentId }),
    placeholderData: keepPreviousData,
    refetchInterval: props.pending ? 5000 : false,
    refetchOnWindowFocus: false,
  });
  const { ckpts, by, metric, jaccardSel } = props;
  const view = useMemo(() => {
    if (!q.data) return null;
    const set = ckpts ? new Set(ckpts) : null;
    return geometryView(q.data, by, metric, jaccardSel, (id) => !set || set.has(id));
  }, [q.data, ckpts, by, metric, jaccardSel]);
  if (q.isError) return <ErrorAlert error={q.error} prefix="Task-vector geometry:" />;
  if (!q.data || !view) return <p className="muted" role="status">Loading the task-vector geometry…</p>;
  const empty =
    view.covered === 0 ? (
      <ChartEmpty title="No analysis with task-vector geometry yet">
        <p>
          The engine measures the geometry in every TIES / TIES-SV analysis.
          {q.data.withoutGeometry > 0 ? ` ${q.data.withoutGeometry} analyses of this experiment were stored before it did: re-run them to see it.` : " Queue an analysis sweep to see it."}
        </p>
      </ChartEmpty>
    ) : undefined;
  return (
    <GeometrySeriesChart
      title="Task-vector geometry along the CT series"
      subtitle={`${view.covered} of ${view.placed} checkpoints analysed · per ${by === "total" ? "model" : by}`}
      data={view.panels}
      index="tokensB"
      left={["ctNorm", "sftNorm"]}
      right="metric"
      rightDomain={metric === "cosine" ? [-1, 1] : [0, 1]}
      config={view.config}
      table={view.table}
      tableOpen={props.tableOpen}
      onTableOpenChange={(o) => props.onTable("geometry", o)}
      empty={empty}
      controls={
        <>
          <label>
            Panels
            <select value={by} onChange={(e) => props.onChange({ geo: e.target.value as GeometryGrouping })} data-testid="geometry-by">
              <option value="module">per module</option>
              <option value="layer">per layer</option>
              <option value="total">whole model only</option>
            </select>
          </label>
          <label>
            Right axis
            <select value={metric} onChange={(e) => props.onChange({ geom: e.target.value as GeometryMetric })} data-testid="geometry-metric">
              {GEOMETRY_METRICS.map((m) => (
                <option key={m} value={m}>
                  {GEOMETRY_METRIC_LABELS[m]}
                </option>
              ))}
            </select>
          </label>
        </>
      }
      caption={
        <>
          τ = model − base, untrimmed, in the compute dtype (the deltas the TIES trim ranks). Left axis: ‖τ_ct‖₂ and ‖τ_sft‖₂ of the group; right axis: {GEOMETRY_METRIC_LABELS[metric]}
          {jaccardSel ? ` at the selected densities k_sft ${jaccardSel.sftDensity}, k_ct ${jaccardSel.ctDensity}` : ""}. A CT vector that grows and turns away from the SFT&apos;s wins
          more sign elections: compare with Figure 4.
        </>
      }
    />
  );
});
