// The merges of charts.scoreStats as chart rows and a colour per method: shared by the
// scores-against-statistics scatter and the parallel-coordinates view.
import { FAMILY_STYLES, OKABE_ITO } from "@/components/charts/palette";
import type { ChartConfig, ChartRow } from "@/components/charts/types";
import type { MergePoint } from "@/server/services/charts/score-stats";

/** Each method of the merges, named and coloured as in every other figure. */
export function methodConfig(points: MergePoint[]): ChartConfig {
  const methods = [...new Set(points.map((p) => p.method))];
  return Object.fromEntries(methods.map((m) => [m, { label: points.find((p) => p.method === m)!.methodLabel, color: FAMILY_STYLES[m]?.color ?? OKABE_ITO.grey }]));
}

/** One row per merge: its parameters, `x` (the chosen statistic) and `y` (its score); `group` is its method. */
export function mergeRows(points: MergePoint[]): ChartRow[] {
  return points.map((p) => ({
    jobId: p.jobId,
    label: p.label,
    group: p.method,
    method: p.methodLabel,
    tokensB: p.tokensB,
    sftDensity: p.sftDensity,
    ctDensity: p.ctDensity,
    lambda: p.lambda,
    slack: p.slack,
    x: p.x,
    y: p.y,
  }));
}
