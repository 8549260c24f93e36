// Recipe → mergekit YAML (model cards, the UI, manifests). Every effective value is written
// out, so the YAML reproduces the merge without relying on either tool's defaults: a key
// appears for exactly the methods it affects (weight, density, gamma, epsilon, normalize,
// lambda, rescale, seed, t, filter_wise, and the newer methods' keys: newer-methods.ts).
// MergeScope extensions (consensus: count, ties_sv, favored, slack, keep_if_no_outliers,
// tie_order: index, random: mergekit) appear only when used.
import { stringify } from "yaml";
import type { MergeMethod } from "../types";
import { isNewerMethod, newerMethodYaml } from "./newer-methods";
import {
  DELLA_METHODS,
  ELECTION_METHODS,
  RANDOM_METHODS,
  RANKING_METHODS,
  TRIM_METHODS,
  WEIGHTED_METHODS,
  type ParamSpec,
  type ParamSpecs,
  type Recipe,
  type RecipeModelRef,
  type RecipeTokenizer,
} from "./types";
/** `path`, or `model+lora` (mergekit's string form), as written or resolved. */
function refString(ref: { path: string; source: string; lora?: { path: string; source: string } | null }, asWritten: boolean): string {
  const model = asWritten ? ref.source : ref.path;
  return ref.lora ? `${model}+${asWritten ? ref.lora.source : ref.lora.path}` : model;
}

function tokenizerYaml(t: RecipeTokenizer, asWritten: boolean): Record<string, unknown> {
  const ref = (m: RecipeModelRef) => refString(m, asWritten);
  const source = t.source.kind === "model" ? ref(t.source.model) : t.source.kind;
  if (t.key === "tokenizer_source") return { tokenizer_source: source };
  const block: Record<string, unknown> = { source };
  if (t.tokens.length > 0) {
    block.tokens = Object.fromEntries(
      t.tokens.map(({ token, source: s, force }) => {
        const entry: Record<string, unknown> = {};
        if (s?.kind === "zero") entry.source = { kind: "zero" };
        else if (s?.kind === "model") entry.source = ref(s.model);
        else if (s?.kind === "model_token") entry.source = { kind: "model_token", model: ref(s.model), ...(s.tokenId !== null ? { token_id: s.tokenId } : { token: s.token }) };
        if (force) entry.force = true;
        return [token, entry];
      }),
    );
  }
  if (t.padToMultipleOf !== null) block.pad_to_multiple_of = t.padToMultipleOf;
  return { tokenizer: block };
}

export interface RecipeYamlOptions {
  /** "resolved": absolute local paths (default); "as-written": the paths as the recipe gave them. */
  paths?: "resolved" | "as-written";
}

const BREADCRUMBS: readonly MergeMethod[] = ["breadcrumbs", "breadcrumbs_ties"];
const DARE: readonly MergeMethod[] = ["dare_linear", "dare_ties"];
const INTERPOLATING: readonly MergeMethod[] = ["slerp", "model_stock", "passthrough"];

/** A spec as mergekit writes it: conditions without a filter have only `value`. */
function specYaml(spec: ParamSpec): unknown {
  if (typeof spec === "number" || typeof spec[0] === "number") return spec;
  return (spec as Exclude<ParamSpec, number | number[]>).map((c) => (c.filter === null ? { value: c.value } : { filter: c.filter, value: c.value }));
}

function specsYaml(specs: ParamSpecs): Record<string, unknown> {
  return Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, specYaml(v)]));
}

const isList = (spec: ParamSpec | undefined) => spec !== undefined && typeof spec !== "number";

export function recipeToYaml(recipe: Recipe, opts: RecipeYamlOptions = {}): string {
  const asWritten = opts.paths === "as-written";
  const method = recipe.method;
  const trims = TRIM_METHODS.includes(method);
  const weighted = WEIGHTED_METHODS.includes(method);
  const breadcrumbs = BREADCRUMBS.includes(method);
  const dare = DARE.includes(method);
  const della = DELLA_METHODS.includes(method);
  const doc: Record<string, unknown> = { merge_method: method };
  if (recipe.basePath !== null) doc.base_model = refString({ path: recipe.basePath, source: recipe.baseSource ?? recipe.basePath, lora: recipe.baseLora }, asWritten);
  const top = recipe.parameters ?? {};
  if (recipe.slices?.length) {
    doc.slices = recipe.slices.map((sl) => ({
      sources: sl.sources.map((src) => ({
        model: asWritten ? src.source : src.path,
        layer_range: [...src.layerRange],
        ...(Object.keys(src.parameters).length > 0 ? { parameters: specsYaml(src.parameters) } : {}),
      })),
      ...(Object.keys(sl.parameters).length > 0 ? { parameters: specsYaml(sl.parameters) } : {}),
    }));
  } else {
    doc.models = recipe.models.map((m) => {
      const parameters: Record<string, unknown> = {};
      // A list value, the model's own value, or nothing where the model follows a top-level list.
      const put = (key: string, used: boolean, scalar: number | null | undefined) => {
        const own = m.parameters?.[key];
        if (!used) return;
        if (own !== undefined) parameters[key] = specYaml(own);
        else if (!isList(top[key]) && scalar !== undefined && scalar !== null) parameters[key] = scalar;
      };
      put("weight", weighted, m.weight);
      put("density", trims, m.density);
      put("gamma", breadcrumbs, m.gamma);
      put("epsilon", della, m.epsilon);
      put("scale", method === "passthrough", m.scale);
      if (m.favored) parameters.favored = true;
      const model = refString(m, asWritten);
      return Object.keys(parameters).length > 0 ? { model, parameters } : { model };
    });
  }
  const parameters: Record<string, unknown> = {};
  if (!INTERPOLATING.includes(method) && !isNewerMethod(method)) {
    parameters.normalize = recipe.normalize;
    if (method !== "linear") parameters.lambda = top.lambda !== undefined ? specYaml(top.lambda) : recipe.lambda;
  }
  for (const key of ["weight", "density", "gamma", "epsilon", "scale"]) if (top[key] !== undefined) parameters[key] = specYaml(top[key]);
  if (ELECTION_METHODS.includes(method) && recipe.consensus !== "sum") parameters.consensus = recipe.consensus;
  if (method === "ties_sv") {
    parameters.slack = recipe.slack;
    parameters.slack_scope = recipe.slackScope;
  }
  if (RANDOM_METHODS.includes(method)) {
    parameters.rescale = recipe.rescale;
    parameters.seed = recipe.seed;
  } else if (recipe.rescale) parameters.rescale = true;
  if (dare && recipe.randomStream !== "counter") parameters.random = recipe.randomStream;
  if (RANKING_METHODS.includes(method) && recipe.tieOrder !== "mergekit") parameters.tie_order = recipe.tieOrder;
  if (breadcrumbs && recipe.keepIfNoOutliers) parameters.keep_if_no_outliers = true;
  if (method === "slerp") parameters.t = top.t !== undefined ? specYaml(top.t) : recipe.t;
  if (method === "model_stock") parameters.filter_wise = recipe.filterWise;
  Object.assign(parameters, newerMethodYaml(method, recipe));
  if (recipe.int8Mask) parameters.int8_mask = true;
  if (Object.keys(parameters).length > 0) doc.parameters = parameters;
  if (recipe.dtype !== null) doc.dtype = recipe.dtype;
  if (recipe.outDtype !== null) doc.out_dtype = recipe.outDtype;
  if (recipe.tokenizer) Object.assign(doc, tokenizerYaml(recipe.tokenizer, asWritten));
  return stringify(doc, { indent: 2, lineWidth: 0 });
}
