// The geometry-along-the-series chart's panels and table from `charts.geometry` (the values are
// computed and grouped on the server; this only picks the chosen grouping, the pair statistic and
// the density pair of the Jaccard overlap, and lays the checkpoints out along CT tokens).
import { OKABE_ITO } from "@/components/charts/palette";
import type { ChartConfig, ChartRow, ChartTable } from "@/components/charts/types";
import type { GeometryGroup, GeometrySeries } from "@/server/services/charts/geometry";

export const GEOMETRY_GROUPINGS = ["module", "layer", "total"] as const;
export type GeometryGrouping = (typeof GEOMETRY_GROUPINGS)[number];
export const GEOMETRY_METRICS = ["cosine", "signAgreement", "jaccard"] as const;
export type GeometryMetric = (typeof GEOMETRY_METRICS)[number];

export const GEOMETRY_METRIC_LABELS: Record<GeometryMetric, string> = {
  cosine: "cos(τ_sft, τ_ct)",
  signAgreement: "sign agreement (share of positions where both are non-zero)",
  jaccard: "Jaccard of the two trims' top-k masks",
};

export interface GeometryPanel {
  /** "total", a module name or "layer 3". */
  key: string;
  label: string;
  /** One row per placed checkpoint, ascending tokens: tokensB, checkpoint (its label), ctNorm, sftNorm, metric. */
  rows: ChartRow[];
}

export interface GeometryView {
  panels: GeometryPanel[];
  config: ChartConfig;
  table: ChartTable;
  /** Checkpoints with at least one analysis carrying geometry. */
  covered: number;
  placed: number;
}

type DensityPair = { sftDensity: number; ctDensity: number };

function metricOf(g: GeometryGroup, metric: GeometryMetric, sel: DensityPair | null): number | null {
  if (metric === "jaccard") return sel ? (g.jaccard.find((j) => j.sftDensity === sel.sftDensity && j.ctDensity === sel.ctDensity)?.jaccard ?? null) : null;
  return g[metric];
}

const layerLabel = (layer: number | null) => (layer === null ? "outside the layers" : `layer ${layer}`);

export function geometryView(
  series: GeometrySeries,
  by: GeometryGrouping,
  metric: GeometryMetric,
  /** The density pair of the Jaccard overlap (used only for that metric). */
  sel: DensityPair | null,
  keep: (checkpointId: string) => boolean,
): GeometryView {
  const placed = series.checkpoints.filter((c) => c.tokensB !== null && keep(c.modelId)).sort((a, b) => a.tokensB! - b.tokensB!);
  // Panel order: the whole model first, then modules / layers in the order the server lists them (first seen wins).
  const panels = new Map<string, GeometryPanel>();
  const add = (key: string, label: string, tokensB: number, checkpoint: string, g: GeometryGroup) => {
    const panel = panels.get(key) ?? { key, label, rows: [] };
    panels.set(key, panel);
    panel.rows.push({ tokensB, checkpoint, ctNorm: g.ctNorm, sftNorm: g.sftNorm, metric: metricOf(g, metric, sel) });
  };
  for (const c of placed) {
    if (c.total) add("total", "whole model", c.tokensB!, c.label, c.total);
    if (by === "module") for (const m of c.byModule) add(`m:${m.module}`, m.module, c.tokensB!, c.label, m);
    if (by === "layer") for (const l of c.byLayer) add(`l:${l.layer ?? "none"}`, layerLabel(l.layer), c.tokensB!, c.label, l);
  }
  const metricLabel = metric === "jaccard" && sel ? `Jaccard at k_sft ${sel.sftDensity}, k_ct ${sel.ctDensity}` : GEOMETRY_METRIC_LABELS[metric];
  const config: ChartConfig = {
    ctNorm: { label: "‖τ_ct‖₂", color: OKABE_ITO.vermillion },
    sftNorm: { label: "‖τ_sft‖₂", color: OKABE_ITO.sky, dash: "5 3" },
    metric: { label: metricLabel, color: OKABE_ITO.black, dash: "2 2" },
  };
  return {
    panels: [...panels.values()],
    config,
    covered: placed.filter((c) => c.total !== null).length,
    placed: placed.length,
    table: {
      columns: [
        { key: "group", label: by === "total" ? "group" : by, kind: "text" },
        { key: "checkpoint", label: "checkpoint", kind: "text" },
        { key: "tokensB", label: "CT tokens (B)", kind: "tokens" },
        { key: "sftNorm", label: "‖τ_sft‖₂", kind: "number" },
        { key: "ctNorm", label: "‖τ_ct‖₂", kind: "number" },
        { key: "normRatio", label: "‖τ_ct‖ / ‖τ_sft‖", kind: "number" },
        { key: "metric", label: metricLabel, kind: "number" },
      ],
      rows: [...panels.values()].flatMap((p) =>
        p.rows.map((r) => ({ group: p.label, ...r, normRatio: typeof r.ctNorm === "number" && typeof r.sftNorm === "number" && r.sftNorm !== 0 ? r.ctNorm / r.sftNorm : null })),
      ),
    },
  };
}
