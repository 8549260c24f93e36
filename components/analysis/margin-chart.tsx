"use client";

import { formatInt } from "@/components/charts/format";
import { MarginHistogramChart } from "@/components/charts/margin-histogram-chart";
import { OKABE_ITO } from "@/components/charts/palette";
import type { ChartConfig, ChartTable } from "@/components/charts/types";
import type { MarginChart as MarginChartData } from "@/server/services/charts/schemas";
import type { CompareState } from "./compare-state";

const sci = (x: number | null) => (x === null ? "—" : x === 0 ? "0" : x.toExponential(3));

/** The table (and CSV) of the margin histogram: one row per bin, as the API returns it. */
export function marginTable(m: MarginChartData): ChartTable {
  return {
    columns: [
      { key: "label", label: "|margin| bin", kind: "text" },
      { key: "lo", label: "from", kind: "text" },
      { key: "hi", label: "to (excl.)", kind: "text" },
      { key: "candidates", label: "lost elections", kind: "count" },
      { key: "reserved", label: "reserved by the slack", kind: "count" },
      { key: "notReserved", label: "still discarded", kind: "count" },
    ],
    rows: m.bins.map((b) => ({ label: b.label, lo: sci(b.lo), hi: b.hi === null ? "∞" : sci(b.hi), candidates: b.candidates, reserved: b.reserved, notReserved: b.notReserved })),
  };
}

/** The SFT model's lost-election margins of the compared TIES-SV analysis, the slack cut marked (table open/closed in the URL). */
export function MarginChart({ margins, state, patch }: { margins: MarginChartData; state: CompareState; patch: (p: Partial<CompareState>) => void }) {
  const config: ChartConfig = {
    reserved: { label: "rescued by the slack (reserved)", color: OKABE_ITO.orange },
    notReserved: { label: "discarded (lost the election)", color: OKABE_ITO.blue },
  };
  const cutRow = margins.cutBin === null ? undefined : margins.bins.find((b) => b.bin === margins.cutBin);
  const cutLabel =
    margins.cut === null
      ? null
      : `slack cut |margin| = ${sci(margins.cut)}: ${formatInt(margins.nReserved)} reserved` +
        (margins.atCut ? ` (${formatInt(margins.takenAtCut)} of ${formatInt(margins.atCut)} at the cut)` : "");
  const caption =
    margins.nCandidates === 0 ? (
      <>The SFT model lost no election at these densities.</>
    ) : (
      <>
        <span data-testid="margin-summary">
          {formatInt(margins.nCandidates)} SFT parameters lost the sign election (what TIES discards at these densities); the slack
          {margins.slack !== null ? ` ${margins.slack}` : ""} reserved {formatInt(margins.nReserved)}
          {margins.slackBudget !== null ? ` (budget ${formatInt(margins.slackBudget)})` : ""} with the smallest margins
        </span>
        {margins.cut === null ? ` — ${margins.slackScope ?? "tensor"} scope: each tensor has its own cut, so none is drawn.` : `; ${cutLabel}.`}{" "}
        Margin = |sum of the weighted trimmed task-vector entries| at the position (the election&apos;s sum; bins: 6 per decade).
      </>
    );
  return (
    <MarginHistogramChart
      title="Lost-election margins of the SFT model"
      subtitle="TIES-SV analysis: reserved vs discarded"
      data={margins.bins.map((b) => ({ label: b.label, reserved: b.reserved, notReserved: b.notReserved }))}
      index="label"
      categories={["reserved", "notReserved"]}
      config={config}
      cut={cutRow && cutLabel ? { at: cutRow.label, label: cutLabel, color: OKABE_ITO.vermillion } : null}
      valueFormatter={(v) => formatInt(v)}
      table={marginTable(margins)}
      tableOpen={state.htable}
      onTableOpenChange={(open) => patch({ htable: open })}
      caption={caption}
    />
  );
}
