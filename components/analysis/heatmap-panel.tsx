"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { memo, useMemo } from "react";
import { ChartEmpty } from "@/components/charts/chart-empty";
import { DiscardHeatmap } from "@/components/charts/discard-heatmap";
import { formatPct } from "@/components/charts/format";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { lookup, type Selection, type SweepIndex } from "@/server/services/charts/sweep-select";
import { compareHref, type TableId } from "./analysis-state";
import { heatmapDetail, heatmapView } from "./figure-data";

export interface HeatmapPanelProps {
  experimentId: string;
  index: SweepIndex;
  sel: Selection;
  split: "dev" | "test";
  checkpointId: string | null;
  method: "ties" | "ties_sv";
  tableOpen: boolean;
  onChange: (patch: { hmCkpt?: string; hmMethod?: "ties" | "ties_sv" }) => void;
  onTable: (id: TableId, open: boolean) => void;
}

const pctFmt = (v: number) => formatPct(v);

/** Layer × module discard rates of the SFT model for one checkpoint (TensorStat rows of one analysis). */
export const HeatmapPanel = memo(function HeatmapPanel(props: HeatmapPanelProps) {
  const trpc = useTRPC();
  const ckpts = props.index.checkpoints;
  const ckpt = ckpts.find((c) => c.modelId === props.checkpointId) ?? ckpts.at(-1) ?? null;
  const point = ckpt ? lookup(props.index, props.method, ckpt.modelId, props.sel) : undefined;
  const q = useQuery({
    ...trpc.charts.heatmap.queryOptions({ analysisId: point?.analysisId ?? "", experimentId: props.experimentId }),
    enabled: !!point,
    placeholderData: keepPreviousData,
    staleTime: Infinity,
  });
  const view = useMemo(() => (q.data ? heatmapView(q.data) : null), [q.data]);
  const methodName = props.method === "ties" ? "TIES" : "TIES-SV";
  const controls = (
    <>
      <label>
        Checkpoint
        <select value={ckpt?.modelId ?? ""} onChange={(e) => props.onChange({ hmCkpt: e.target.value })} data-testid="heatmap-checkpoint">
          {ckpts.map((c) => (
            <option key={c.modelId} value={c.modelId}>
              {c.label} — {c.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Method
        <select value={props.method} onChange={(e) => props.onChange({ hmMethod: e.target.value === "ties_sv" ? "ties_sv" : "ties" })} data-testid="heatmap-method">
          <option value="ties">TIES</option>
          <option value="ties_sv">TIES-SV (after rescue)</option>
        </select>
      </label>
      {ckpt ? (
        <Link
          className="btn btn-small"
          href={compareHref({ experiment: props.experimentId, checkpointId: ckpt.modelId, sft: props.sel.sftDensity, ct: props.sel.ctDensity, slack: props.sel.slack, split: props.split })}
          data-testid="compare-link"
        >
          TIES vs TIES-SV at {ckpt.label} →
        </Link>
      ) : null}
    </>
  );
  const empty = !point ? (
    <ChartEmpty title={`No ${methodName} analysis at ${ckpt?.label ?? "this checkpoint"} with k_sft ${props.sel.sftDensity}, k_ct ${props.sel.ctDensity}`}>
      <p>Pick another checkpoint, method or density pair.</p>
    </ChartEmpty>
  ) : q.isError ? (
    <ErrorAlert error={q.error} prefix="Heatmap:" />
  ) : !view ? (
    <p className="muted" role="status">
      Loading the per-tensor statistics…
    </p>
  ) : undefined;
  return (
    <DiscardHeatmap
      title="Discard rate of the SFT model per layer and module"
      subtitle={`${methodName}, ${ckpt?.label ?? "—"} CT tokens, k_sft ${props.sel.sftDensity}, k_ct ${props.sel.ctDensity}${props.method === "ties_sv" && point?.slack != null ? `, slack ${point.slack}` : ""} — % of the SFT model's trimmed parameters discarded${q.data?.total.pct != null && !q.isPlaceholderData ? ` (overall ${formatPct(q.data.total.pct)})` : ""}${q.isPlaceholderData ? " — updating…" : ""}`}
      data={view?.data ?? []}
      index="label"
      categories={view?.categories ?? []}
      valueFormatter={pctFmt}
      detail={heatmapDetail}
      table={view?.table ?? { columns: [], rows: [] }}
      tableOpen={props.tableOpen}
      onTableOpenChange={(o) => props.onTable("heatmap", o)}
      empty={empty}
      controls={controls}
      caption="Each cell sums the tensors of one layer and module (q, k, v, o, gate, up, down, norms); 'outside layers' holds the embeddings, the final norm and the LM head."
    />
  );
});
