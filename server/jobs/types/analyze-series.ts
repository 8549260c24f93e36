// `analyze-series` job: the TIES density sweep of every CT checkpoint of a series from ONE
// engine pass (analyzeSeries: base and SFT read once, each checkpoint once — N + 2 model reads
// instead of the 3N of one analyze-sweep job per checkpoint). The payload lists each
// checkpoint's recipe (base, SFT, that CT) as an analyze-sweep job would get it, and the job
// stores exactly the Analysis rows those jobs would: one per (checkpoint, grid point), built by
// the same pointReport, so the charts read them unchanged.
import { z } from "zod";
import { defineJob } from "../definition";
import { analyzeSeries, type SweepReport } from "../../engine/merge";
import { LIMITS } from "../../limits";
import { saveAnalysis } from "../../services/analyses/store";
import { pointReport } from "./analyze-sweep";
import { engineRoots, parsePayloadRecipe, recipeIdentity, recipeResources, recipePayloadSchema } from "./recipe-payload";
import { engineProgressToJob } from "./progress";

const payloadSchema = z.object({
  /** One ties recipe per CT checkpoint, alike but for their second (CT) model. */
  recipeYamls: z.array(z.string().min(1).max(LIMITS.recipeBytes)).min(1).max(LIMITS.recipeModels),
  recipeDir: recipePayloadSchema.shape.recipeDir,
  label: recipePayloadSchema.shape.label,
  computeDtype: recipePayloadSchema.shape.computeDtype,
  densities: z.array(z.number().min(0).max(1)).min(1).max(16),
});
export type AnalyzeSeriesPayload = z.infer<typeof payloadSchema>;

const resultSchema = z.object({
  method: z.string(),
  checkpoints: z.number(),
  points: z.number(),
  tensors: z.number(),
  bytesRead: z.number(),
});

/** The recipe payload of checkpoint i (what its analyze-sweep job would carry). */
function checkpointPayload(p: AnalyzeSeriesPayload, i: number) {
  return { recipeYaml: p.recipeYamls[i]!, recipeDir: p.recipeDir, computeDtype: p.computeDtype };
}

export const analyzeSeriesJob = defineJob({
  type: "analyze-series",
  version: 1,
  payload: payloadSchema,
  result: resultSchema,
  identity: async (p) => ({
    checkpoints: await Promise.all(p.recipeYamls.map((_, i) => recipeIdentity(checkpointPayload(p, i)))),
    densities: p.densities,
  }),
  // The engine holds one base, SFT and CT tensor (double-buffered) at a time, like one sweep.
  resources: (p) => recipeResources(checkpointPayload(p, 0)),
  async handler(p, ctx) {
    const recipes = p.recipeYamls.map((_, i) => parsePayloadRecipe(checkpointPayload(p, i)));
    const series = await analyzeSeries(recipes, p.densities, {
      signal: ctx.signal,
      threads: ctx.threads,
      allowedRoots: engineRoots(),
      computeDtype: p.computeDtype,
      onProgress: (np) => ctx.reportProgress(engineProgressToJob(np)),
    });
    const first = series.checkpoints[0]!;
    return {
      result: { method: first.method, checkpoints: series.checkpoints.length, points: first.sweep.length, tensors: first.sweep[0]?.tensors.length ?? 0, bytesRead: series.bytesRead },
      details: series.checkpoints,
    };
  },
  async persist(tx, job, _result, details) {
    for (const sweep of details as SweepReport[]) {
      for (let i = 0; i < sweep.sweep.length; i++) {
        await saveAnalysis(tx, { jobId: job.jobId, experimentId: job.experimentId, report: pointReport(sweep, i), slack: null, slackScope: null });
      }
    }
  },
});
