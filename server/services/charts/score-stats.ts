// Scores against merge statistics: every finished merge of an experiment as a point —
// x a statistic of the merge's own sign election (stored with it: merges record their
// analysis), y its score (a language average or one task) — with the least-squares line
// and Pearson's r, per experiment. Also the rows of the parallel-coordinates view
// (checkpoint tokens, method, densities, λ, slack → score).
import { z } from "zod";
import { db } from "../../db/client";
import { experimentContext } from "./context";
import { splitSchema, type ChartSplit, type SweepPoint } from "./schemas";
import { experimentScoreValues, mergeOutputs } from "./scores";
import { toSweepPoint, type AnalysisRow } from "./sweep";
import { MERGE_STATISTIC_KEYS, MERGE_STATISTICS, type MergeStatistic } from "./merge-statistics";
import { METHOD_LABELS, pct } from "./sweep-select";

export const mergeStatisticSchema = z.enum(MERGE_STATISTIC_KEYS);

export const mergePointSchema = z.object({
  jobId: z.string(),
  label: z.string(),
  method: z.string(),
  methodLabel: z.string(),
  checkpointId: z.string(),
  tokensB: z.number().nullable(),
  sftDensity: z.number(),
  ctDensity: z.number(),
  lambda: z.number().nullable(),
  slack: z.number().nullable(),
  /** The chosen statistic (null: the merge has no sign election, e.g. WAVG, or no stored analysis). */
  x: z.number().nullable(),
  /** The chosen score (null: not scored yet in this split). */
  y: z.number().nullable(),
  partial: z.boolean(),
});
export type MergePoint = z.infer<typeof mergePointSchema>;

export const scoreStatsSchema = z.object({
  statistic: mergeStatisticSchema,
  statisticLabel: z.string(),
  scoreLabel: z.string(),
  split: splitSchema,
  points: z.array(mergePointSchema),
  /** Least squares over the points with both values: y = intercept + slope·x, Pearson's r; null below 2 points or without spread. */
  fit: z.object({ n: z.number(), slope: z.number(), intercept: z.number(), r: z.number() }).nullable(),
  statistics: z.array(z.object({ key: mergeStatisticSchema, label: z.string() })),
});
export type ScoreStats = z.infer<typeof scoreStatsSchema>;

/** Least-squares line and Pearson's r (null below two points or when x or y does not vary). */
export function linearFit(xy: { x: number; y: number }[]): ScoreStats["fit"] {
  const n = xy.length;
  if (n < 2) return null;
  const mx = xy.reduce((a, p) => a + p.x, 0) / n;
  const my = xy.reduce((a, p) => a + p.y, 0) / n;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (const p of xy) {
    sxx += (p.x - mx) ** 2;
    syy += (p.y - my) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  if (sxx === 0 || syy === 0) return null;
  const slope = sxy / sxx;
  return { n, slope, intercept: my - slope * mx, r: sxy / Math.sqrt(sxx * syy) };
}

function statisticOf(p: SweepPoint | undefined, tokensB: number | null, statistic: MergeStatistic): number | null {
  if (statistic === "tokensB") return tokensB;
  if (!p) return null;
  switch (statistic) {
    case "sftDiscardPct":
      return pct(p.sft.discarded, p.sft.nnzTrimmed);
    case "ctDiscardPct":
      return pct(p.ct.discarded, p.ct.nnzTrimmed);
    case "signConflictPct":
      return pct(p.signConflicts, p.numel);
    case "sftRescuedPct":
      return p.method === "ties_sv" ? pct(p.sft.rescued, p.sft.nnzTrimmed) : null;
  }
}

export async function scoreVsStatistic(input: { experimentId: string; split: ChartSplit; task?: string | null; statistic: MergeStatistic }): Promise<ScoreStats> {
  const ctx = await experimentContext(input.experimentId);
  const merges = await mergeOutputs(ctx);
  const { values, scoreLabel } = await experimentScoreValues(ctx, merges, input);
  const client = await db();
  const rows: AnalysisRow[] = merges.length
    ? await client.analysis.findMany({
        where: { jobId: { in: merges.map((m) => m.jobId) } },
        select: { id: true, jobId: true, experimentId: true, method: true, modelPaths: true, inputModelIds: true, densities: true, slack: true, slackScope: true, totals: true, createdAt: true, job: { select: { payload: true, status: true } } },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      })
    : [];
  const analysisOf = new Map<string, SweepPoint>();
  for (const r of rows) {
    const p = toSweepPoint(ctx, r);
    if (!("reason" in p) && r.jobId) analysisOf.set(r.jobId, p);
  }
  const points: MergePoint[] = merges.map((o) => {
    const v = values.get(`job:${o.jobId}`);
    return {
      jobId: o.jobId,
      label: `${METHOD_LABELS[o.method] ?? o.method} ${o.checkpoint.label} k=${o.densities.join("/")}${o.slack !== null ? ` slack ${o.slack}` : ""}`,
      method: o.method,
      methodLabel: METHOD_LABELS[o.method] ?? o.method,
      checkpointId: o.checkpoint.modelId,
      tokensB: o.checkpoint.tokensB,
      sftDensity: o.densities[0],
      ctDensity: o.densities[1],
      lambda: o.recipe.lambda,
      slack: o.slack,
      x: statisticOf(analysisOf.get(o.jobId), o.checkpoint.tokensB, input.statistic),
      y: v?.value ?? null,
      partial: v?.partial ?? false,
    };
  });
  const fit = linearFit(points.flatMap((p) => (p.x !== null && p.y !== null ? [{ x: p.x, y: p.y }] : [])));
  return {
    statistic: input.statistic,
    statisticLabel: MERGE_STATISTICS[input.statistic],
    scoreLabel,
    split: input.split,
    points,
    fit,
    statistics: Object.entries(MERGE_STATISTICS).map(([key, label]) => ({ key: key as MergeStatistic, label })),
  };
}
