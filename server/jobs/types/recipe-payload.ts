// Payload fields shared by the recipe-driven jobs (merge, analyze): the
// recipe as mergekit YAML plus the folder its relative paths resolve against.
// Paths are checked twice: at enqueue (realpath inside MERGESCOPE_MODEL_ROOTS)
// and by the engine in the worker on every file it opens (engineRoots()), so a
// folder swapped for a symlink in between is refused too.
import { z } from "zod";
import { PermanentJobError, type JobResources } from "../definition";
import { modelFingerprintAsync } from "../idempotency";
import { parseRecipeYaml, RecipeError } from "../../engine/recipe";
import { estimateWorkingSet } from "../../engine/working-set";
import { env } from "../../env";
import { LIMITS } from "../../limits";
import { offload } from "../../offload/pool";
import { PathError } from "../../paths";
import { resolveAllowedModel, resolveAllowedPath } from "../../services/models/roots";
import type { Recipe } from "../../engine/recipe/types";

export const recipePayloadSchema = z.object({
  recipeYaml: z.string().min(1).max(LIMITS.recipeBytes),
  recipeDir: z.string().min(1).refine((p) => p.startsWith("/"), "must be an absolute path"),
  label: z.string().max(200).optional(),
  computeDtype: z.enum(["float32", "storage"]).optional(),
});
export type RecipePayload = z.infer<typeof recipePayloadSchema>;

function recipeFailure(err: unknown): never {
  if (err instanceof RecipeError) throw new PermanentJobError("RECIPE_INVALID", err.message);
  throw err;
}

// The scheduler's estimate, the handler and `persist` all need the recipe: parse it once per job.
const parsedRecipes = new Map<string, Recipe>();
const PARSED_RECIPES_KEPT = 16;

/** In the worker (it may block: the parse is small next to the engine's work). */
export function parsePayloadRecipe(p: RecipePayload): Recipe {
  const key = `${p.recipeDir}\0${p.recipeYaml}`;
  const hit = parsedRecipes.get(key);
  if (hit) return hit;
  try {
    const recipe = parseRecipeYaml(p.recipeYaml, { recipeDir: p.recipeDir });
    if (parsedRecipes.size >= PARSED_RECIPES_KEPT) parsedRecipes.delete(parsedRecipes.keys().next().value!);
    parsedRecipes.set(key, recipe);
    return recipe;
  } catch (err) {
    recipeFailure(err);
  }
}

/** The folders the engine may read in a worker: every file it opens is checked against them. */
export function engineRoots(): string[] {
  return env().modelRoots;
}

/**
 * What the work is: the resolved recipe plus what its checkpoints are on disk.
 * Checked at enqueue (in the web server, so the recipe is parsed on an offload
 * thread): every checkpoint must lie inside the allowed model roots.
 */
export async function recipeIdentity(p: RecipePayload): Promise<unknown> {
  const recipe = await offload("recipe.parse", { text: p.recipeYaml, recipeDir: p.recipeDir }).catch(recipeFailure);
  // Every folder the merge reads: models, their LoRA adapters, a tokenizer_source model.
  const tokenizerModel = recipe.tokenizer?.source.kind === "model" ? recipe.tokenizer.source.model : null;
  const refs = [
    ...(recipe.basePath !== null ? [{ where: "base_model", source: recipe.baseSource ?? recipe.basePath, path: recipe.basePath, model: true }] : []),
    // LoRA adapter folders hold safetensors + JSON like a model folder: the same link check applies.
    ...(recipe.baseLora ? [{ where: "base_model (LoRA)", source: recipe.baseLora.source, path: recipe.baseLora.path, model: true }] : []),
    ...recipe.models.flatMap((m, i) => [
      { where: `models[${i}]`, source: m.source, path: m.path, model: true },
      ...(m.lora ? [{ where: `models[${i}] (LoRA)`, source: m.lora.source, path: m.lora.path, model: true }] : []),
    ]),
    ...(tokenizerModel ? [{ where: "tokenizer source", source: tokenizerModel.source, path: tokenizerModel.path, model: false }] : []),
  ];
  for (const r of refs) {
    try {
      if (r.model) await resolveAllowedModel(r.path);
      else await resolveAllowedPath(r.path);
    } catch (err) {
      // Say which entry of the recipe, as written, was refused (relative ones resolve against recipeDir).
      if (err instanceof PathError) throw new PathError(err.rule, err.path, `${r.where} (${JSON.stringify(r.source)}): ${err.message}`, { cause: err });
      throw err;
    }
  }
  const paths = refs.map((r) => r.path);
  const { notes: _notes, sourceText: _text, ...work } = recipe;
  const inputs: [string, string][] = [];
  for (const x of paths) inputs.push([x, await modelFingerprintAsync(x)]);
  return { recipe: work, computeDtype: p.computeDtype ?? null, inputs };
}

/** Engine jobs are CPU-bound; their working set follows the recipe's largest tensor. */
export async function recipeResources(p: RecipePayload): Promise<JobResources> {
  const recipe = parsePayloadRecipe(p);
  return { cpuBound: true, workingSetBytes: estimateWorkingSet(recipe, { allowedRoots: engineRoots() }) };
}
