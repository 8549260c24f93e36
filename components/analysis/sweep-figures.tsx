"use client";

import { memo, useMemo, type ReactNode } from "react";
import { ChartEmpty } from "@/components/charts/chart-empty";
import { DensityExplorer } from "@/components/charts/density-explorer";
import { Figure3Chart } from "@/components/charts/figure3-chart";
import { Figure4Chart } from "@/components/charts/figure4-chart";
import { formatPct } from "@/components/charts/format";
import type { SweepStats } from "@/server/services/charts/schemas";
import { coverage, METHOD_LABELS, type Selection, type SweepIndex } from "@/server/services/charts/sweep-select";
import type { TableId } from "./analysis-state";
import { explorerDetail, explorerView, fig3Detail, fig3View, fig4Detail, fig4View } from "./figure-data";
import { useUpdateMeasure } from "./use-update-measure";

export interface SweepFiguresProps {
  sweep: SweepStats;
  index: SweepIndex;
  sel: Selection;
  kind: "area" | "bars";
  /** Checkpoints shown (null = all). */
  ckpts: string[] | null;
  xCkpt: string | null;
  tables: TableId[];
  onSel: (s: Selection) => void;
  onKind: (k: "area" | "bars") => void;
  onXCkpt: (id: string) => void;
  onTable: (id: TableId, open: boolean) => void;
  emptyHelp: ReactNode;
}

const pctFmt = (v: number) => formatPct(v);

/** The density explorer and Figures 3–4, all derived in the browser from the loaded sweep statistics. */
export const SweepFigures = memo(function SweepFigures(props: SweepFiguresProps) {
  const { sweep, index, sel, ckpts } = props;
  const keep = useMemo(() => {
    const set = ckpts ? new Set(ckpts) : null;
    return (id: string) => !set || set.has(id);
  }, [ckpts]);
  const f3 = useMemo(() => fig3View(index, sel, keep), [index, sel, keep]);
  const f4 = useMemo(() => fig4View(index, sel, keep), [index, sel, keep]);
  const placeable = index.checkpoints;
  const xCkpt = placeable.find((c) => c.modelId === props.xCkpt) ?? placeable.at(-1) ?? null;
  const xv = useMemo(() => explorerView(index, sweep.grid, xCkpt?.modelId ?? null, "ties", sel), [index, sweep.grid, xCkpt, sel]);
  useUpdateMeasure(`${sel.sftDensity}|${sel.ctDensity}|${sel.slack}`);

  const noPoints = sweep.points.length === 0;
  const tiesCov = coverage(index, "ties", sel);
  const svCov = coverage(index, "ties_sv", sel);
  const noneYet = (
    <ChartEmpty title="No analyses yet">
      <p>See the density explorer above for how to queue an analysis sweep.</p>
    </ChartEmpty>
  );
  const empty3 = noPoints ? noneYet : f3.rows.every((r) => r.electsSft === null) ? (
    <ChartEmpty title={`No TIES analysis at k_sft ${sel.sftDensity}, k_ct ${sel.ctDensity}`}>
      <p>Move the density sliders to a pair the sweep covers, or add this pair to a sweep.</p>
    </ChartEmpty>
  ) : undefined;
  const empty4 = noPoints ? noneYet : f4.rows.every((r) => r.ties === null && r.tiesSv === null && r.sce === null && r.della === null) ? (
    <ChartEmpty title={`No TIES, TIES-SV or SCE analysis at k_sft ${sel.sftDensity}, k_ct ${sel.ctDensity}`}>
      <p>Move the density sliders to a pair the sweep covers.</p>
    </ChartEmpty>
  ) : undefined;

  return (
    <>
      <DensityExplorer
        title="Density explorer"
        subtitle={`${sweep.points.length} analyses: ${placeable.length} checkpoints × ${sweep.grid.sft.length * sweep.grid.ct.length} density pairs × ${sweep.methods.map((m) => METHOD_LABELS[m] ?? m).join(", ") || "no methods"}`}
        sftGrid={sweep.grid.sft}
        ctGrid={sweep.grid.ct}
        slackGrid={sweep.grid.slack}
        value={sel}
        onChange={props.onSel}
        data={xv.data}
        index="label"
        categories={xv.categories}
        columnLabel={xv.columnLabel}
        selected={xv.selected}
        onCellClick={(row, key) => props.onSel({ ...sel, sftDensity: sweep.grid.sft[row]!, ctDensity: sweep.grid.ct[Number(key.slice(1))]! })}
        valueFormatter={pctFmt}
        detail={explorerDetail}
        table={xv.table}
        tableOpen={props.tables.includes("explorer")}
        onTableOpenChange={(o) => props.onTable("explorer", o)}
        empty={noPoints ? props.emptyHelp : undefined}
        controls={
          <label>
            Overview checkpoint
            <select value={xCkpt?.modelId ?? ""} onChange={(e) => props.onXCkpt(e.target.value)} data-testid="explorer-checkpoint">
              {placeable.map((c) => (
                <option key={c.modelId} value={c.modelId}>
                  {c.label} — {c.name}
                </option>
              ))}
            </select>
          </label>
        }
        summary={
          <span data-testid="explorer-summary">
            Overview: TIES share of the SFT model&apos;s trimmed parameters discarded at {xCkpt?.label ?? "—"}, per density pair (outlined: the selection). Figures 3–4 use
            k_sft {sel.sftDensity}, k_ct {sel.ctDensity}
            {sel.slack !== null ? `, slack ${sel.slack}` : ""}: TIES at {tiesCov.filled}/{tiesCov.total} checkpoints, TIES-SV at {svCov.filled}/{svCov.total}. Computed in the
            browser from the loaded statistics — no new job.
          </span>
        }
      />
      <div className="analysis-grid">
        <Figure3Chart
          title="Figure 3 — SFT parameters in sign conflict"
          subtitle={f3.subtitle}
          data={f3.data}
          index="tokensB"
          categories={f3.categories}
          config={f3.config}
          valueFormatter={pctFmt}
          kind={props.kind}
          detail={fig3Detail}
          table={f3.table}
          tableOpen={props.tables.includes("fig3")}
          onTableOpenChange={(o) => props.onTable("fig3", o)}
          empty={empty3}
          controls={
            <label>
              Draw as
              <select value={props.kind} onChange={(e) => props.onKind(e.target.value === "bars" ? "bars" : "area")} data-testid="fig3-kind">
                <option value="area">stacked area</option>
                <option value="bars">stacked bars</option>
              </select>
            </label>
          }
          caption="Of the SFT model's parameters kept by trimming, the share at sign-conflict positions, split by the sign the election picks: the SFT's (kept) or the CT model's (the SFT entry is discarded)."
        />
        <Figure4Chart
          title="Figure 4 — SFT parameters discarded by sign election"
          subtitle={f4.subtitle}
          data={f4.data}
          index="label"
          categories={f4.categories}
          config={f4.config}
          valueFormatter={pctFmt}
          detail={fig4Detail}
          table={f4.table}
          tableOpen={props.tables.includes("fig4")}
          onTableOpenChange={(o) => props.onTable("fig4", o)}
          empty={empty4}
          caption="discarded[sft] / nnz_trimmed[sft]: the SFT model's trimmed parameters whose sign lost the election. TIES-SV: after the slack variable rescued some of them. SCE (when analysed): its select_topk trims every model alike, so it appears where k_sft = k_ct = select_topk."
        />
      </div>
    </>
  );
});
