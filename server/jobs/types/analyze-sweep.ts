// `analyze-sweep` job: the TIES statistics at every combination of a density list
// across the models, from one pass of the engine (analyzeSweep), stored as one
// Analysis row per grid point — the same rows `analyze` jobs write, so the
// charts and the density explorer read them unchanged.
import { z } from "zod";
import { defineJob, PermanentJobError } from "../definition";
import { analyzeSweep, type SweepReport } from "../../engine/merge";
import type { StatsReport } from "../../engine/stats";
import { saveAnalysis } from "../../services/analyses/store";
import { engineRoots, parsePayloadRecipe, recipeResources, recipeIdentity, recipePayloadSchema } from "./recipe-payload";
import { engineProgressToJob } from "./progress";

const payloadSchema = recipePayloadSchema.extend({
  densities: z.array(z.number().min(0).max(1)).min(1).max(16),
});

const resultSchema = z.object({
  method: z.string(),
  points: z.number(),
  tensors: z.number(),
});

/** The single-analysis report of one grid point (what `analyze` stores). */
export function pointReport(sweep: SweepReport, index: number): StatsReport {
  const point = sweep.sweep[index]!;
  return {
    method: sweep.method,
    tie_order: sweep.tie_order,
    random: null,
    models: sweep.models.map((m, i) => ({ ...m, density: point.densities[i]! })),
    tensors: point.tensors,
    totals: point.totals,
    byLayer: point.byLayer,
    byModule: point.byModule,
    warnings: sweep.warnings,
    slack_budget: null,
    margins: null,
  };
}

export const analyzeSweepJob = defineJob({
  type: "analyze-sweep",
  version: 1,
  payload: payloadSchema,
  result: resultSchema,
  identity: async (p) => ({ ...((await recipeIdentity(p)) as object), densities: p.densities }),
  resources: (p) => recipeResources(p),
  async handler(p, ctx) {
    const recipe = parsePayloadRecipe(p);
    if (recipe.method !== "ties") throw new PermanentJobError("RECIPE_INVALID", `density sweeps run on merge_method ties; this recipe uses ${recipe.method}`);
    const sweep = await analyzeSweep(recipe, p.densities, {
      signal: ctx.signal,
      threads: ctx.threads,
      allowedRoots: engineRoots(),
      computeDtype: p.computeDtype,
      onProgress: (np) => ctx.reportProgress(engineProgressToJob(np)),
    });
    return {
      result: { method: sweep.method, points: sweep.sweep.length, tensors: sweep.sweep[0]?.tensors.length ?? 0 },
      details: sweep,
    };
  },
  async persist(tx, job, _result, details) {
    const sweep = details as SweepReport;
    for (let i = 0; i < sweep.sweep.length; i++) {
      await saveAnalysis(tx, { jobId: job.jobId, experimentId: job.experimentId, report: pointReport(sweep, i), slack: null, slackScope: null });
    }
  },
});
