// Recipe text → validated recipe and its canonical YAML (pure: also runs on
// the offload threads, server/offload).
import { parseRecipeYaml, RecipeError, recipeToYaml, type Recipe } from "../../engine/recipe";
import type { RecipeIssueOut } from "./schemas";

export type Validated = { ok: true; recipe: Recipe; yaml: string } | { ok: false; issues: RecipeIssueOut[] };

/** Parses `yaml` with the engine's recipe module; the canonical YAML when valid. */
export function validateRecipeYaml(yaml: string, recipeDir: string): Validated {
  try {
    const recipe = parseRecipeYaml(yaml, { recipeDir });
    return { ok: true, recipe, yaml: recipeToYaml(recipe) };
  } catch (err) {
    if (err instanceof RecipeError) return { ok: false, issues: err.issues.map((i) => ({ path: i.path, line: i.line, message: i.message })) };
    throw err;
  }
}
