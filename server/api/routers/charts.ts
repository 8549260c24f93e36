import { z } from "zod";
import { compareTiesSv } from "../../services/charts/compare";
import { geometrySeries, geometrySeriesSchema } from "../../services/charts/geometry";
import { analysisHeatmap } from "../../services/charts/heatmap";
import { methodsSideBySide, methodsSideBySideSchema } from "../../services/charts/methods";
import { compareSchema, figure2Schema, heatmapSchema, splitSchema, sweepStatsSchema } from "../../services/charts/schemas";
import { figure2 } from "../../services/charts/scores";
import { mergeStatisticSchema, scoreStatsSchema, scoreVsStatistic } from "../../services/charts/score-stats";
import { sweepStats } from "../../services/charts/sweep";
import { createTRPCRouter, sharedChartProcedure } from "../trpc";

const experimentInput = z.object({ experimentId: z.string().min(1) });
const density = z.number().min(0).max(1);

export const chartsRouter = createTRPCRouter({
  /** Every TIES / TIES-SV analysis of the experiment's checkpoints, shaped once: Figures 3–4 and the density explorer. */
  sweep: sharedChartProcedure.input(experimentInput).output(sweepStatsSchema).query(({ input }) => sweepStats(input.experimentId)),
  /** Figure 2: score vs CT tokens per model family, for a task or the language average. */
  figure2: sharedChartProcedure
    .input(experimentInput.extend({ split: splitSchema, task: z.string().min(1).max(200).nullish() }))
    .output(figure2Schema)
    .query(({ input }) => figure2(input)),
  /** Scores against a merge statistic: every finished merge as a point, with the least-squares line and r. */
  scoreStats: sharedChartProcedure
    .input(experimentInput.extend({ split: splitSchema, task: z.string().min(1).max(200).nullish(), statistic: mergeStatisticSchema }))
    .output(scoreStatsSchema)
    .query(({ input }) => scoreVsStatistic(input)),
  /** Discard rate of the SFT model per layer × module for one analysis. */
  heatmap: sharedChartProcedure
    .input(z.object({ analysisId: z.string().min(1), experimentId: z.string().min(1).nullish() }))
    .output(heatmapSchema)
    // A public link reads only analyses of its own experiment.
    .query(({ input, ctx }) => analysisHeatmap({ ...input, onlyOfExperiment: ctx.principal.kind === "share" })),
  /** Task-vector geometry along the CT series: norms, cosine, sign agreement, mask Jaccard per checkpoint, module and layer. */
  geometry: sharedChartProcedure.input(experimentInput).output(geometrySeriesSchema).query(({ input }) => geometrySeries(input.experimentId)),
  /** Methods side by side at one checkpoint and density pair: what each keeps, discards and trims of the SFT task vector. */
  methods: sharedChartProcedure
    .input(experimentInput.extend({ checkpointId: z.string().min(1).nullish(), sftDensity: density.nullish(), ctDensity: density.nullish(), slack: density.nullish() }))
    .output(methodsSideBySideSchema)
    .query(({ input }) => methodsSideBySide(input)),
  /** TIES vs TIES-SV at one checkpoint and density pair. */
  compare: sharedChartProcedure
    .input(
      experimentInput.extend({
        checkpointId: z.string().min(1),
        sftDensity: density.nullish(),
        ctDensity: density.nullish(),
        slack: z.number().min(0).max(1).nullish(),
        split: splitSchema,
      }),
    )
    .output(compareSchema)
    .query(({ input }) => compareTiesSv(input)),
});
