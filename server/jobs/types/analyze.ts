// `analyze` job: merge statistics without writing a model (the data behind
// Figures 3–4), stored per tensor in the Analysis / TensorStat tables.
import { z } from "zod";
import { defineJob } from "../definition";
import { analyze } from "../../engine/merge";
import type { StatsReport } from "../../engine/stats";
import { saveRecipeAnalysis } from "./recipe-analysis";
import { engineRoots, parsePayloadRecipe, recipeResources, recipeIdentity, recipePayloadSchema } from "./recipe-payload";
import { engineProgressToJob } from "./progress";

const analyzeResultSchema = z.object({
  method: z.string(),
  tensors: z.number(),
  totals: z.record(z.string(), z.unknown()),
  slackBudget: z.number().nullable(),
});

export const analyzeJob = defineJob({
  type: "analyze",
  version: 1,
  payload: recipePayloadSchema,
  result: analyzeResultSchema,
  identity: (p) => recipeIdentity(p),
  resources: (p) => recipeResources(p),
  async handler(p, ctx) {
    const recipe = parsePayloadRecipe(p);
    const report = await analyze(recipe, {
      signal: ctx.signal,
      threads: ctx.threads,
      allowedRoots: engineRoots(),
      computeDtype: p.computeDtype,
      onProgress: (np) => ctx.reportProgress(engineProgressToJob(np)),
    });
    return {
      result: { method: report.method, tensors: report.tensors.length, totals: report.totals as unknown as Record<string, unknown>, slackBudget: report.slack_budget },
      details: report,
    };
  },
  persist: (tx, job, _result, details) => saveRecipeAnalysis(tx, job, details as StatsReport),
});
