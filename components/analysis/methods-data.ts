// The methods-side-by-side chart's rows, legend and table from `charts.methods` (the parts and
// shares are computed on the server; this only picks the grouping and names the columns).
import { FIG4_COLORS, OKABE_ITO } from "@/components/charts/palette";
import type { ChartConfig, ChartRow, ChartTable } from "@/components/charts/types";
import type { MethodsSideBySide } from "@/server/services/charts/methods";

const METHOD_COLORS: Record<string, string> = {
  ties: FIG4_COLORS.ties,
  ties_sv: FIG4_COLORS.tiesSv,
  dare_ties: OKABE_ITO.orange,
  breadcrumbs_ties: OKABE_ITO.sky,
  della: FIG4_COLORS.della,
  sce: FIG4_COLORS.sce,
};

export interface MethodsChartView {
  rows: ChartRow[];
  methods: string[];
  config: ChartConfig;
  table: ChartTable;
}

export function methodsChartView(d: MethodsSideBySide, what: "module" | "layer"): MethodsChartView {
  const methods = d.methods.map((m) => m.method);
  const label = Object.fromEntries(d.methods.map((m) => [m.method, m.slack !== null ? `${m.label} (slack ${m.slack})` : m.label]));
  const config: ChartConfig = {};
  for (const m of methods) {
    const color = METHOD_COLORS[m] ?? OKABE_ITO.grey;
    config[`${m}:kept`] = { label: `${label[m]}: enters the merge`, color };
    config[`${m}:discarded`] = { label: `${label[m]}: discarded by the election`, color };
  }
  const groups = what === "layer" ? d.byLayer : d.byModule;
  const rows = groups.map((g) => {
    const row: ChartRow = { [what]: g.label };
    for (const m of methods) {
      row[`${m}:kept`] = g.byMethod[m]?.keptPct ?? null;
      row[`${m}:discarded`] = g.byMethod[m]?.discardedPct ?? null;
    }
    return row;
  });
  const tableRows = groups.flatMap((g) =>
    methods.map((m) => {
      const p = g.byMethod[m];
      return { [what]: g.label, method: label[m]!, numel: p?.numel ?? null, kept: p?.keptPct ?? null, discarded: p?.discardedPct ?? null, trimmed: p?.trimmedPct ?? null, rescued: p?.rescued ?? null };
    }),
  );
  return {
    rows,
    methods,
    config,
    table: {
      columns: [
        { key: what, label: what, kind: "text" },
        { key: "method", label: "method", kind: "text" },
        { key: "numel", label: "SFT parameters", kind: "count" },
        { key: "kept", label: "enters the merge (%)", kind: "pct" },
        { key: "discarded", label: "discarded by the election (%)", kind: "pct" },
        { key: "trimmed", label: "trimmed away (%)", kind: "pct" },
        { key: "rescued", label: "rescued by the slack", kind: "count" },
      ],
      rows: tableRows,
    },
  };
}
