// The statistics of a recipe-driven job (analyze, merge) stored as its Analysis:
// one place that knows which recipe fields describe the statistics.
import type { DbTx } from "../../db/client";
import type { StatsReport } from "../../engine/stats";
import { saveAnalysis } from "../../services/analyses/store";
import { parsePayloadRecipe, type RecipePayload } from "./recipe-payload";

export async function saveRecipeAnalysis(tx: DbTx, job: { jobId: string; experimentId: string | null; payload: RecipePayload }, report: StatsReport): Promise<void> {
  const recipe = parsePayloadRecipe(job.payload);
  await saveAnalysis(tx, {
    jobId: job.jobId,
    experimentId: job.experimentId,
    report,
    slack: recipe.method === "ties_sv" ? recipe.slack : null,
    slackScope: recipe.method === "ties_sv" ? recipe.slackScope : null,
  });
}
