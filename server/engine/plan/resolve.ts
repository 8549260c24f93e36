// Parameter values of one tensor (mergekit's ConfigReader): the source's parameters, then the
// slice's, then the top-level ones, then the method default; a level whose conditions match
// nothing falls through. Per-model parameters are looked up with the INPUT tensor name, global
// ones with the OUTPUT name (golden README "Gradients, filters and slices").
import { evaluateSpec } from "../recipe/param-spec";
import type { ParamSpecs, Recipe, RecipeModel } from "../recipe/types";
import { RecipeError } from "../recipe/errors";
import { TRIM_METHODS, WEIGHTED_METHODS } from "../recipe/types";
import type { MergeMethod } from "../types";

export type ModelKey = "weight" | "density" | "gamma" | "epsilon" | "scale";
export type GlobalKey = "lambda" | "t";

/** The per-model parameters a method reads; the others keep the parser's fixed values. */
export function modelKeysOf(method: MergeMethod): ModelKey[] {
  const keys: ModelKey[] = [];
  if (WEIGHTED_METHODS.includes(method)) keys.push("weight");
  if (TRIM_METHODS.includes(method)) keys.push("density");
  if (method === "breadcrumbs" || method === "breadcrumbs_ties") keys.push("gamma");
  if (method === "della" || method === "della_linear") keys.push("epsilon");
  if (method === "passthrough") keys.push("scale");
  return keys;
}

/** The global parameters a method reads per tensor. */
export function globalKeysOf(method: MergeMethod): GlobalKey[] {
  if (method === "slerp") return ["t"];
  const noLambda: readonly MergeMethod[] = ["linear", "slerp", "model_stock", "passthrough"];
  return noLambda.includes(method) ? [] : ["lambda"];
}

/** First level (in order) whose spec for `key` yields a value at (name, t). */
export function lookup(levels: readonly (ParamSpecs | undefined)[], key: string, name: string, t: number): number | null {
  for (const level of levels) {
    const spec = level?.[key];
    if (spec === undefined) continue;
    const v = evaluateSpec(spec, name, t);
    if (v !== null) return v;
  }
  return null;
}

export interface ResolvedModelParams {
  weight: number;
  density: number;
  gamma: number;
  epsilon: number;
  scale: number | null;
  favored: boolean;
}

const isList = (spec: unknown) => spec !== undefined && typeof spec !== "number";

/**
 * A `models:` entry's own level: its list values, over its scalar fields — except where the
 * top-level value is a list and the model set none of its own (its scalar field is then only
 * the list's display value, and the lookup must fall through to the list).
 */
export function ownSpecs(m: RecipeModel, recipe: Recipe): ParamSpecs {
  const out: ParamSpecs = {};
  const scalars: [ModelKey, number | null | undefined][] = [["weight", m.weight], ["density", m.density], ["gamma", m.gamma], ["epsilon", m.epsilon], ["scale", m.scale]];
  for (const [key, v] of scalars) if (v !== undefined && v !== null && !isList(recipe.parameters?.[key])) out[key] = v;
  return { ...out, ...m.parameters };
}

/** Values of one model input of one tensor. `levels`: source, slice, top-level specs. */
export function resolveModel(
  recipe: Recipe,
  model: RecipeModel,
  levels: readonly (ParamSpecs | undefined)[],
  inputName: string,
  t: number,
): ResolvedModelParams {
  const keys = modelKeysOf(recipe.method);
  const get = (key: ModelKey, fixed: number) => (keys.includes(key) ? lookup(levels, key, inputName, t) : null) ?? fixed;
  const scale = keys.includes("scale") ? lookup(levels, "scale", inputName, t) : null;
  return {
    weight: get("weight", keys.includes("weight") ? 1 : model.weight),
    density: get("density", keys.includes("density") ? 1 : model.density),
    gamma: get("gamma", keys.includes("gamma") ? 0.01 : model.gamma),
    epsilon: get("epsilon", keys.includes("epsilon") ? 0.15 : model.epsilon),
    scale,
    favored: model.favored,
  };
}

/** Global values of one tensor. `levels`: slice, top-level specs. */
export function resolveGlobals(recipe: Recipe, levels: readonly (ParamSpecs | undefined)[], outputName: string, t: number): { lambda: number; t: number } {
  const keys = globalKeysOf(recipe.method);
  // A plain top-level lambda / t is the recipe's scalar field; a list that matches nothing gives mergekit's default.
  const lambda = keys.includes("lambda") ? (lookup(levels, "lambda", outputName, t) ?? (isList(recipe.parameters?.lambda) ? 1 : recipe.lambda)) : recipe.lambda;
  let tv = recipe.t;
  if (keys.includes("t")) {
    const v = lookup(levels, "t", outputName, t) ?? (isList(recipe.parameters?.t) ? null : recipe.t);
    if (v === null) {
      throw new RecipeError([
        { path: "parameters.t", line: null, message: `no value of \`t\` applies to tensor '${outputName}' (no filter matches it); add a condition without \`filter\`` },
      ]);
    }
    tv = v;
  }
  return { lambda, t: tv };
}

/** True when some parameter the method reads differs between tensors (a gradient or filter list). */
export function hasLayeredParameters(recipe: Recipe): boolean {
  const listy = (specs: ParamSpecs | undefined, keys: readonly string[]) => keys.some((k) => specs?.[k] !== undefined && typeof specs[k] !== "number");
  const mk = modelKeysOf(recipe.method);
  return listy(recipe.parameters, [...mk, ...globalKeysOf(recipe.method)]) || recipe.models.some((m) => listy(m.parameters, mk));
}
