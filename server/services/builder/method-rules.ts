// Which builder settings each merge method uses — the recipe layer's method
// sets (types.ts) plus the few rules parse.ts applies per method. Pure data and
// functions (no zod): the form (client) and the recipe builder (server) share them.
import { isNewerMethod } from "../../engine/recipe/newer-methods";
import {
  DELLA_METHODS,
  ELECTION_METHODS,
  MERGE_METHODS,
  RANDOM_METHODS,
  RANKING_METHODS,
  TRIM_METHODS,
  WEIGHTED_METHODS,
} from "../../engine/recipe/types";
import { BASE_OPTIONAL_METHODS } from "../../engine/types";

/** Every engine method (a tuple, for zod). */
export const MERGE_METHOD_VALUES = MERGE_METHODS;
export type BuilderMethod = (typeof MERGE_METHOD_VALUES)[number];

const has = (list: readonly string[], m: BuilderMethod) => list.includes(m);

/** Task vectors are taken relative to `base_model` (every method but linear). */
export const usesBaseModel = (m: BuilderMethod) => m !== "linear";
/** nuslerp, multislerp, karcher: a base model is optional (without one the models themselves are interpolated). */
export const baseOptional = (m: BuilderMethod) => m !== "linear" && BASE_OPTIONAL_METHODS.includes(m);
/** Per-model `weight` (not slerp, model_stock). */
export const usesWeight = (m: BuilderMethod) => has(WEIGHTED_METHODS, m);
/** Per-model `density`: ties, ties_sv, breadcrumbs*, dare*. */
export const usesDensity = (m: BuilderMethod) => has(TRIM_METHODS, m);
/** Sign election (`consensus`): ties, ties_sv, breadcrumbs_ties, dare_ties. */
export const usesConsensus = (m: BuilderMethod) => has(ELECTION_METHODS, m);
/** Per-model `gamma` and the global `keep_if_no_outliers`. */
export const usesGamma = (m: BuilderMethod) => m === "breadcrumbs" || m === "breadcrumbs_ties";
/** Global `seed` and `rescale`: the methods that draw random keep masks (dare*, della*). */
export const usesSeed = (m: BuilderMethod) => has(RANDOM_METHODS, m);
/** Per-model `epsilon` (della*). */
export const usesEpsilon = (m: BuilderMethod) => has(DELLA_METHODS, m);
/** Global `random` (which generator draws the masks): dare* (della* always uses mergekit's stream). */
export const usesRandomStream = (m: BuilderMethod) => m === "dare_linear" || m === "dare_ties";
/** Global `tie_order`: the methods that rank entries by magnitude. */
export const usesTieOrder = (m: BuilderMethod) => has(RANKING_METHODS, m);
/** slerp and model_stock interpolate, passthrough copies: no normalize, no lambda. */
export const interpolates = (m: BuilderMethod) => m === "slerp" || m === "model_stock" || m === "passthrough";
/** Only the task-arithmetic family and linear take `normalize` / `lambda` (not the interpolations, passthrough nor sce .. nearswap). */
export const usesNormalize = (m: BuilderMethod) => !interpolates(m) && !isNewerMethod(m);
export const usesLambda = (m: BuilderMethod) => m !== "linear" && usesNormalize(m);
/** `t`: slerp's interpolation factor, nearswap's distance. */
export const usesT = (m: BuilderMethod) => m === "slerp" || m === "nearswap";
/** mergekit's `normalize` default (as the recipe parser applies it). */
export const defaultNormalize = (m: BuilderMethod) => m === "linear" || m === "ties" || m === "ties_sv" || m === "della";

/** mergekit's gamma default for breadcrumbs. */
export const DEFAULT_GAMMA = 0.01;
/** mergekit's epsilon default for della. */
export const DEFAULT_EPSILON = 0.15;
/** slerp's t when none was chosen yet: halfway. */
export const DEFAULT_T = 0.5;
/**
 * nearswap has no default t in mergekit; the form suggests this one (a distance between
 * weights, which are ~0.01-0.1 in LLMs) when switching to nearswap from slerp's default.
 */
export const NEARSWAP_SUGGESTED_T = 0.001;

/**
 * `normalize` after switching methods: a value the user left at the old
 * method's default follows the new method's default; a changed one is kept.
 */
export function normalizeAfterSwitch(from: BuilderMethod, to: BuilderMethod, normalize: boolean): boolean {
  return normalize === defaultNormalize(from) ? defaultNormalize(to) : normalize;
}
