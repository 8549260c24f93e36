// Recipe rules of sce, nuslerp, multislerp, karcher, arcee_fusion and nearswap (mergekit 0.1.4's
// parameter names, defaults and model counts; test/fixtures/golden/README.md "Method semantics").
// parse.ts and to-yaml.ts call these so the older methods' rules stay where they are.
import { NEWER_METHOD_DEFAULTS, type MergeMethod } from "../types";

export const NEWER_METHODS = ["sce", "nuslerp", "multislerp", "karcher", "arcee_fusion", "nearswap"] as const satisfies readonly MergeMethod[];
export type NewerMethod = (typeof NEWER_METHODS)[number];

export function isNewerMethod(m: MergeMethod): m is NewerMethod {
  return (NEWER_METHODS as readonly string[]).includes(m);
}

/** The global parameters each of them reads (mergekit's names). */
export const NEWER_METHOD_KEYS: Record<NewerMethod, readonly string[]> = {
  sce: ["select_topk"],
  nuslerp: ["nuslerp_flatten", "nuslerp_row_wise"],
  multislerp: ["normalize_weights", "eps"],
  karcher: ["max_iter", "tol"],
  arcee_fusion: [],
  nearswap: ["t"],
};

/** Global keys that belong to one of these methods only. */
const OWNER: Record<string, NewerMethod> = {
  select_topk: "sce",
  nuslerp_flatten: "nuslerp",
  nuslerp_row_wise: "nuslerp",
  normalize_weights: "multislerp",
  eps: "multislerp",
  max_iter: "karcher",
  tol: "karcher",
};

export interface NewerMethodValues {
  /** sce: fraction of positions kept by the variance of the task vectors over the models (1 keeps all). */
  selectTopk: number;
  /** nuslerp: the whole tensor is one vector. */
  nuslerpFlatten: boolean;
  /** nuslerp without flatten: vectors along dim 0 (mergekit's code; its docs say the opposite). */
  nuslerpRowWise: boolean;
  /** multislerp: weights divided by their sum. */
  normalizeWeights: boolean;
  /** multislerp: offset added to the norms. */
  eps: number;
  /** karcher: iteration limit and convergence tolerance. */
  maxIter: number;
  tol: number;
}

/** mergekit 0.1.4's defaults. */
export const NEWER_DEFAULTS: NewerMethodValues = NEWER_METHOD_DEFAULTS;

export interface NewerGlobals {
  select_topk?: number;
  nuslerp_flatten?: boolean;
  nuslerp_row_wise?: boolean;
  normalize_weights?: boolean;
  eps?: number;
  max_iter?: number;
  tol?: number;
  t?: number;
}

type Fail = (path: PropertyKey[], message: string) => void;

/** The values the method uses (others at their defaults) plus notes for keys that have no effect. */
export function newerMethodValues(method: MergeMethod, g: NewerGlobals, fail: Fail, notes: string[]): NewerMethodValues {
  for (const [key, owner] of Object.entries(OWNER)) {
    if (g[key as keyof NewerGlobals] !== undefined && owner !== method) notes.push(`\`${key}\` is a ${owner} parameter; it has no effect on ${method}`);
  }
  if (method === "nearswap" && g.t === undefined) {
    fail(["parameters", "t"], "required for nearswap (no default): the distance |base - model| below which the model's value is taken (e.g. 0.001)");
  }
  const own = <K extends keyof NewerMethodValues>(m: NewerMethod, k: K, v: NewerMethodValues[K] | undefined) =>
    method === m && v !== undefined ? v : NEWER_DEFAULTS[k];
  return {
    selectTopk: own("sce", "selectTopk", g.select_topk),
    nuslerpFlatten: own("nuslerp", "nuslerpFlatten", g.nuslerp_flatten),
    nuslerpRowWise: own("nuslerp", "nuslerpRowWise", g.nuslerp_row_wise),
    normalizeWeights: own("multislerp", "normalizeWeights", g.normalize_weights),
    eps: own("multislerp", "eps", g.eps),
    maxIter: own("karcher", "maxIter", g.max_iter),
    tol: own("karcher", "tol", g.tol),
  };
}

/** What happens to a `models:` entry that is the base model. */
export function baseEntryRule(method: MergeMethod): { kind: "drop" | "error"; message: string } | null {
  if (method === "nuslerp") {
    return { kind: "error", message: "nuslerp merges two models relative to base_model; the base model cannot be one of them (mergekit fails the same way)" };
  }
  if (method === "karcher") return { kind: "drop", message: "karcher averages the base model once (mergekit includes base_model's tensor as one of the averaged inputs)" };
  if (method === "multislerp") return { kind: "drop", message: "it is the origin of the interpolation, not one of the interpolated models, as in mergekit" };
  return null;
}

/** Model-count rules (after base entries are dropped); null when the count is fine. */
export function newerMethodCountProblem(method: MergeMethod, count: number, hasBase: boolean): string | null {
  switch (method) {
    case "nuslerp":
      return count === 2 ? null : `nuslerp merges exactly two models${hasBase ? " besides base_model" : ""}; found ${count}`;
    case "arcee_fusion":
    case "nearswap":
      return count === 1 ? null : `${method} merges base_model with exactly one other model; found ${count}`;
    default:
      return null;
  }
}

/** Notes for what mergekit leaves to chance or does silently with these methods. */
export function newerMethodNotes(method: MergeMethod, count: number, hasBase: boolean): string[] {
  if ((method === "multislerp" || (method === "karcher" && !hasBase)) && count === 1) {
    return [`${method} with one model returns that model unchanged, as mergekit does`];
  }
  return [];
}

/** The `parameters:` entries a recipe of this method writes (every effective value). */
export function newerMethodYaml(method: MergeMethod, v: NewerMethodValues & { t: number }): Record<string, unknown> {
  switch (method) {
    case "sce":
      return { select_topk: v.selectTopk };
    case "nuslerp":
      return { nuslerp_flatten: v.nuslerpFlatten, nuslerp_row_wise: v.nuslerpRowWise };
    case "multislerp":
      return { normalize_weights: v.normalizeWeights, eps: v.eps };
    case "karcher":
      return { max_iter: v.maxIter, tol: v.tol };
    case "nearswap":
      return { t: v.t };
    default:
      return {};
  }
}

/**
 * mergekit orders sce's and multislerp's models by Python set order (str hashes, different in every
 * process): with 3+ models its float sums, hence its output, change from run to run. MergeScope uses
 * the recipe order; the model card says so. Null when the order cannot matter.
 */
export function modelOrderRule(method: MergeMethod, count: number): string | null {
  if ((method === "sce" || method === "multislerp") && count >= 3) {
    return `mergekit ${method} orders its models by Python set order, which changes from run to run; with 3 or more models that changes the last bits of the result. MergeScope uses the recipe order (models as listed), so the merge is reproducible.`;
  }
  return null;
}
