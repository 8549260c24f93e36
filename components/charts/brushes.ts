// Brushes of the parallel-coordinates view: which rows they keep (pure; the chart and the merge list share it).
import type { Brushes, ChartRow } from "./types";

/** Whether a row passes every brush (a row without a value on a brushed axis does not). */
export function passesBrushes(row: ChartRow, brushes: Brushes): boolean {
  return Object.entries(brushes).every(([key, b]) => {
    const v = row[key];
    if (v === null || v === undefined) return false;
    return b.kind === "range" ? typeof v === "number" && v >= b.lo && v <= b.hi : b.values.includes(String(v));
  });
}
