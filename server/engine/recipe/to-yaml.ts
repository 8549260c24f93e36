// Recipe → mergekit YAML (model cards, the UI, manifests). Every effective value is written
// out, so the YAML reproduces the merge without relying on either tool's defaults.
// MergeScope extensions (consensus: count, ties_sv, favored, slack) appear only when used.
import { stringify } from "yaml";
import type { Recipe } from "./types";

export interface RecipeYamlOptions {
  /** "resolved": absolute local paths (default); "as-written": the paths as the recipe gave them. */
  paths?: "resolved" | "as-written";
}

export function recipeToYaml(recipe: Recipe, opts: RecipeYamlOptions = {}): string {
  const asWritten = opts.paths === "as-written";
  const isTies = recipe.method === "ties" || recipe.method === "ties_sv";
  const doc: Record<string, unknown> = { merge_method: recipe.method };
  const base = asWritten ? recipe.baseSource : recipe.basePath;
  if (base !== null) doc.base_model = base;
  doc.models = recipe.models.map((m) => {
    const parameters: Record<string, unknown> = { weight: m.weight };
    if (isTies) parameters.density = m.density;
    if (m.favored) parameters.favored = true;
    return { model: asWritten ? m.source : m.path, parameters };
  });
  const parameters: Record<string, unknown> = { normalize: recipe.normalize };
  if (recipe.method !== "linear") parameters.lambda = recipe.lambda;
  if (isTies && recipe.consensus !== "sum") parameters.consensus = recipe.consensus;
  if (recipe.method === "ties_sv") {
    parameters.slack = recipe.slack;
    parameters.slack_scope = recipe.slackScope;
  }
  if (recipe.rescale) parameters.rescale = true;
  if (recipe.int8Mask) parameters.int8_mask = true;
  doc.parameters = parameters;
  if (recipe.dtype !== null) doc.dtype = recipe.dtype;
  if (recipe.outDtype !== null) doc.out_dtype = recipe.outDtype;
  return stringify(doc, { indent: 2, lineWidth: 0 });
}
