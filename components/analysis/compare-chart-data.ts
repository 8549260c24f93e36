// The TIES vs TIES-SV chart's rows, legend and table from the comparison's groups (the
// shares are computed on the server; this only picks the columns of the chosen grouping).
import { FIG4_COLORS, OKABE_ITO } from "@/components/charts/palette";
import type { ChartConfig, ChartRow, ChartTable } from "@/components/charts/types";
import type { CompareGroup } from "@/server/services/charts/schemas";

export interface CompareChartView {
  rows: ChartRow[];
  categories: string[];
  config: ChartConfig;
  table: ChartTable;
}

export function compareChartView(groups: CompareGroup[], what: "module" | "layer"): CompareChartView {
  const config: ChartConfig = {
    ties: { label: "discarded by TIES", color: FIG4_COLORS.ties },
    tiesSv: { label: "discarded by TIES-SV", color: FIG4_COLORS.tiesSv },
    rescued: { label: "rescued by the slack", color: OKABE_ITO.orange },
  };
  const rows = groups.map((g) => ({ [what]: g.label, ties: g.discardedTiesPct, tiesSv: g.discardedSvPct, rescued: g.rescuedPct, nnzTrimmed: g.nnzTrimmed, rescuedCount: g.rescued }));
  const categories = ["ties", "tiesSv", "rescued"].filter((c) => rows.some((r) => r[c as "ties"] !== null));
  return {
    rows,
    categories,
    config,
    table: {
      columns: [
        { key: what, label: what, kind: "text" },
        { key: "nnzTrimmed", label: "trimmed SFT parameters", kind: "count" },
        { key: "ties", label: "TIES discarded (%)", kind: "pct" },
        { key: "tiesSv", label: "TIES-SV discarded (%)", kind: "pct" },
        { key: "rescuedCount", label: "rescued", kind: "count" },
        { key: "rescued", label: "rescued (%)", kind: "pct" },
      ],
      rows,
    },
  };
}
