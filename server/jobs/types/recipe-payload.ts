// Payload fields shared by the recipe-driven jobs (merge, analyze): the
// recipe as mergekit YAML plus the folder its relative paths resolve against.
import { z } from "zod";
import { PermanentJobError } from "../definition";
import { modelFingerprint } from "../idempotency";
import { parseRecipeYaml, RecipeError } from "../../engine/recipe";
import { resolveAllowedPath } from "../../services/models/roots";
import type { Recipe } from "../../engine/recipe/types";

export const recipePayloadSchema = z.object({
  recipeYaml: z.string().min(1).max(500_000),
  recipeDir: z.string().min(1).refine((p) => p.startsWith("/"), "must be an absolute path"),
  label: z.string().max(200).optional(),
  computeDtype: z.enum(["float32", "storage"]).optional(),
});
export type RecipePayload = z.infer<typeof recipePayloadSchema>;

export function parsePayloadRecipe(p: RecipePayload): Recipe {
  try {
    return parseRecipeYaml(p.recipeYaml, { recipeDir: p.recipeDir });
  } catch (err) {
    if (err instanceof RecipeError) throw new PermanentJobError("RECIPE_INVALID", err.message);
    throw err;
  }
}

/**
 * What the work is: the resolved recipe plus what its checkpoints are on disk.
 * Checked at enqueue: every checkpoint must lie inside the allowed model roots.
 */
export async function recipeIdentity(p: RecipePayload): Promise<unknown> {
  const recipe = parsePayloadRecipe(p);
  // Every folder the merge reads: models, their LoRA adapters, a tokenizer_source model.
  const tokenizerModel = recipe.tokenizer?.source.kind === "model" ? recipe.tokenizer.source.model.path : null;
  const paths = [recipe.basePath, recipe.baseLora?.path, ...recipe.models.flatMap((m) => [m.path, m.lora?.path]), tokenizerModel].filter(
    (x): x is string => typeof x === "string",
  );
  for (const x of paths) await resolveAllowedPath(x);
  const { notes: _notes, sourceText: _text, ...work } = recipe;
  return { recipe: work, computeDtype: p.computeDtype ?? null, inputs: paths.map((x) => [x, modelFingerprint(x)]) };
}
