// The work an offload thread runs (pool.ts): pure functions of their input —
// no database, no environment (the thread's copy of process.env may be stale;
// everything a task needs, such as allowed roots, comes in its input).
import { parseRecipeYaml } from "../engine/recipe";
import { analyzePastedRecipe } from "../services/builder/pasted-recipe";
import { planSweepRecipes, type SweepInput } from "../services/sweeps/sweep-expand";
import { detectModel } from "../services/models/detect";
import { parseLmEvalResults, type Split } from "../services/scores/lm-eval";
import { serializeError, type SerializedError } from "./errors";

export const tasks = {
  "recipe.parse": (i: { text: string; recipeDir: string }) => parseRecipeYaml(i.text, { recipeDir: i.recipeDir }),
  "builder.pasted": (i: { text: string; recipeDir: string }) => analyzePastedRecipe(i.text, i.recipeDir),
  "sweep.plan": (i: SweepInput) => planSweepRecipes(i),
  "lmEval.parse": (i: { fileName: string; text: string; split: Split | null }) => parseLmEvalResults(i.fileName, i.text, { split: i.split }),
  "models.detect": (i: { realPath: string; tokensPerStep: number | null; allowedRoots: string[] }) =>
    detectModel(i.realPath, { tokensPerStep: i.tokensPerStep, allowedRoots: i.allowedRoots }),
};

export type TaskName = keyof typeof tasks;
export type TaskInput<K extends TaskName> = Parameters<(typeof tasks)[K]>[0];
export type TaskOutput<K extends TaskName> = Awaited<ReturnType<(typeof tasks)[K]>>;

/** Runs one task; errors come back as data (errors.ts). */
export async function runTask(name: string, input: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: SerializedError }> {
  try {
    if (!Object.hasOwn(tasks, name)) throw new Error(`unknown offload task ${name}`);
    const value = await (tasks[name as TaskName] as (i: unknown) => unknown)(input);
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: serializeError(err) };
  }
}
