// Recipe → mergekit YAML (model cards, the UI, manifests). Every effective value is written
// out, so the YAML reproduces the merge without relying on either tool's defaults: a key
// appears for exactly the methods it affects (weight, density, gamma, normalize, lambda,
// rescale, seed, t, filter_wise, and the newer methods' keys: newer-methods.ts). MergeScope extensions (consensus: count, ties_sv, favored,
// slack, keep_if_no_outliers) appear only when used.
import { stringify } from "yaml";
import type { MergeMethod } from "../types";
import { isNewerMethod, newerMethodYaml } from "./newer-methods";
import { ELECTION_METHODS, TRIM_METHODS, WEIGHTED_METHODS, type Recipe } from "./types";

export interface RecipeYamlOptions {
  /** "resolved": absolute local paths (default); "as-written": the paths as the recipe gave them. */
  paths?: "resolved" | "as-written";
}

const BREADCRUMBS: readonly MergeMethod[] = ["breadcrumbs", "breadcrumbs_ties"];
const DARE: readonly MergeMethod[] = ["dare_linear", "dare_ties"];
const INTERPOLATING: readonly MergeMethod[] = ["slerp", "model_stock"];

export function recipeToYaml(recipe: Recipe, opts: RecipeYamlOptions = {}): string {
  const asWritten = opts.paths === "as-written";
  const method = recipe.method;
  const trims = TRIM_METHODS.includes(method);
  const weighted = WEIGHTED_METHODS.includes(method);
  const breadcrumbs = BREADCRUMBS.includes(method);
  const dare = DARE.includes(method);
  const doc: Record<string, unknown> = { merge_method: method };
  const base = asWritten ? recipe.baseSource : recipe.basePath;
  if (base !== null) doc.base_model = base;
  doc.models = recipe.models.map((m) => {
    const parameters: Record<string, unknown> = {};
    if (weighted) parameters.weight = m.weight;
    if (trims) parameters.density = m.density;
    if (breadcrumbs) parameters.gamma = m.gamma;
    if (m.favored) parameters.favored = true;
    const model = asWritten ? m.source : m.path;
    return Object.keys(parameters).length > 0 ? { model, parameters } : { model };
  });
  const parameters: Record<string, unknown> = {};
  if (!INTERPOLATING.includes(method) && !isNewerMethod(method)) {
    parameters.normalize = recipe.normalize;
    if (method !== "linear") parameters.lambda = recipe.lambda;
  }
  if (ELECTION_METHODS.includes(method) && recipe.consensus !== "sum") parameters.consensus = recipe.consensus;
  if (method === "ties_sv") {
    parameters.slack = recipe.slack;
    parameters.slack_scope = recipe.slackScope;
  }
  if (dare) {
    parameters.rescale = recipe.rescale;
    parameters.seed = recipe.seed;
  } else if (recipe.rescale) parameters.rescale = true;
  if (breadcrumbs && recipe.keepIfNoOutliers) parameters.keep_if_no_outliers = true;
  if (method === "slerp") parameters.t = recipe.t;
  if (method === "model_stock") parameters.filter_wise = recipe.filterWise;
  Object.assign(parameters, newerMethodYaml(method, recipe));
  if (recipe.int8Mask) parameters.int8_mask = true;
  if (Object.keys(parameters).length > 0) doc.parameters = parameters;
  if (recipe.dtype !== null) doc.dtype = recipe.dtype;
  if (recipe.outDtype !== null) doc.out_dtype = recipe.outDtype;
  return stringify(doc, { indent: 2, lineWidth: 0 });
}
