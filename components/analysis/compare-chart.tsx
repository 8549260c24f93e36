"use client";

import { memo } from "react";
import { DiscardCompareChart } from "@/components/charts/discard-compare-chart";
import { formatPct } from "@/components/charts/format";
import type { CompareGroup } from "@/server/services/charts/schemas";
import { compareChartView } from "./compare-chart-data";
import type { CompareState } from "./compare-state";

/** The comparison drawn: TIES and TIES-SV discard and the rescued share per module or layer (grouping and table in the URL). */
export const CompareChart = memo(function CompareChart({ groups, group, tableOpen, patch }: { groups: CompareGroup[]; group: CompareState["group"]; tableOpen: boolean; patch: (p: Partial<CompareState>) => void }) {
  const view = compareChartView(groups, group);
  return (
    <DiscardCompareChart
      title="TIES vs TIES-SV: SFT parameters discarded and rescued"
      subtitle={`per ${group}`}
      data={view.rows}
      index={group}
      categories={view.categories}
      config={view.config}
      valueFormatter={(v) => formatPct(v)}
      table={view.table}
      tableOpen={tableOpen}
      onTableOpenChange={(open) => patch({ ctable: open })}
      controls={
        <label>
          Group by
          <select value={group} onChange={(e) => patch({ group: e.target.value === "layer" ? "layer" : "module" })} data-testid="compare-group">
            <option value="module">module</option>
            <option value="layer">layer</option>
          </select>
        </label>
      }
    />
  );
});
