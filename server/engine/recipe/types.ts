// A parsed, validated merge recipe: mergekit's YAML vocabulary with every default filled in
// and every model path resolved to an absolute path. Plain data (JSON-serialisable), so it
// can be stored in the output manifest and sent to the UI as is.
import type { ResolvedPath } from "../model-ref/parse-ref";
import type { ComputeDtype, Consensus, MergeMethod, RandomStream, SlackScope, StorageDtype, TieOrder } from "../types";
import type { NewerMethodValues } from "./newer-methods";

export type { ResolvedPath };

/** A Hugging Face id a recipe path was resolved as (model-ref/hf-cache.ts); commit null = not in the cache. */
export type RecipeHfRef = NonNullable<ResolvedPath["hf"]>;

/** A model with an optional LoRA, as a tokenizer setting may name it (same identity as RecipeModel). */
export interface RecipeModelRef {
  path: string;
  source: string;
  lora: ResolvedPath | null;
}

/** mergekit TokenEmbeddingConfig.source (tokenizer: tokens:). */
export type RecipeTokenEmbeddingSource =
  | { kind: "zero" }
  | { kind: "model"; model: RecipeModelRef }
  | { kind: "model_token"; model: RecipeModelRef; tokenId: number | null; token: string | null };

/** `tokenizer_source:` or the `tokenizer:` block (server/engine/tokenizer). */
export interface RecipeTokenizer {
  /** Which key the recipe used (mergekit refuses both at once). */
  key: "tokenizer_source" | "tokenizer";
  source: { kind: "base" } | { kind: "union" } | { kind: "model"; model: RecipeModelRef };
  /** tokenizer.tokens in YAML order: tokens added to the vocabulary and how their rows are filled. */
  tokens: { token: string; source: RecipeTokenEmbeddingSource | null; force: boolean }[];
  padToMultipleOf: number | null;
}

/** The torch dtype names mergekit accepts for `dtype` / `out_dtype`. */
export type RecipeDtype = "float32" | "float16" | "bfloat16";

export const RECIPE_DTYPES: readonly RecipeDtype[] = ["float32", "float16", "bfloat16"];
import { MERGE_METHODS } from "../types";

export { MERGE_METHODS };

/** Methods that trim task vectors (per-model `density`). */
export const TRIM_METHODS: readonly MergeMethod[] = [
  "ties",
  "ties_sv",
  "breadcrumbs",
  "breadcrumbs_ties",
  "dare_linear",
  "dare_ties",
  "della",
  "della_linear",
];
/** Methods with a sign election (`consensus`). */
export const ELECTION_METHODS: readonly MergeMethod[] = ["ties", "ties_sv", "breadcrumbs_ties", "dare_ties", "della"];
/** Methods that rank entries by magnitude, so ties at a threshold matter (`tie_order`). */
export const RANKING_METHODS: readonly MergeMethod[] = ["ties", "ties_sv", "breadcrumbs", "breadcrumbs_ties", "della", "della_linear"];
/** Methods that draw random keep masks (`seed`; DARE also `random`). */
export const RANDOM_METHODS: readonly MergeMethod[] = ["dare_linear", "dare_ties", "della", "della_linear"];
/** DELLA (per-model `epsilon`; always mergekit's random stream). */
export const DELLA_METHODS: readonly MergeMethod[] = ["della", "della_linear"];
/** Methods whose models carry a `weight`. */
export const WEIGHTED_METHODS: readonly MergeMethod[] = MERGE_METHODS.filter(
  (m) => !(["slerp", "model_stock", "passthrough", "sce", "karcher", "arcee_fusion", "nearswap"] as MergeMethod[]).includes(m),
);

/** Condition of a filtered parameter: the first whose filter is null, `*` or a substring of the tensor name wins. */
export interface ParamCondition {
  filter: string | null;
  value: number | number[];
}

/**
 * A numeric parameter as mergekit accepts it: a number, a gradient (one value per point,
 * interpolated over the layers) or a list of `{filter, value}` conditions (server/engine/plan).
 */
export type ParamSpec = number | number[] | ParamCondition[];

/** Numeric parameters as written in the recipe (scalars and list values), by mergekit name. */
export type ParamSpecs = Record<string, ParamSpec>;

/** Per-model numeric parameters that take gradients and filters. */
export const MODEL_NUMERIC_PARAMETERS = ["weight", "density", "gamma", "epsilon", "scale"] as const;
/** Global numeric parameters that take gradients and filters. */
export const GLOBAL_NUMERIC_PARAMETERS = ["lambda", "t", "weight", "density", "gamma", "epsilon", "scale"] as const;

export interface RecipeSliceSource {
  /** Absolute path of the model. */
  path: string;
  source: string;
  /** Source layers [start, end) (end exclusive). */
  layerRange: [number, number];
  parameters: ParamSpecs;
}

/** One entry of mergekit's `slices:`: output layers taken from the same layer span of each source. */
export interface RecipeSlice {
  sources: RecipeSliceSource[];
  parameters: ParamSpecs;
}

export interface RecipeModel {
  /** Absolute path of the model directory or .safetensors file. */
  path: string;
  /** The path exactly as written in the recipe (model cards show this, not the local absolute path). */
  source: string;
  weight: number;
  /** Fraction of the task vector kept (ties family, breadcrumbs, dare); 1 = keep everything. */
  density: number;
  /** breadcrumbs*: fraction of largest-magnitude entries removed (mergekit default 0.01). */
  gamma: number;
  /** della*: keep probabilities span density -+ epsilon (mergekit default 0.15). */
  epsilon: number;
  /** ties_sv: the model whose lost sign elections may be rescued (the SFT model). */
  favored: boolean;
  /** passthrough: the model's tensors are multiplied by it (null: copied unchanged). */
  scale?: number | null;
  /**
   * Per-layer values (server/engine/plan): the model's gradient / filter-list parameters, and
   * its plain numbers where the top-level value is a list (they take precedence over it).
   * The scalar field of a list-valued parameter holds its value for a tensor no filter names,
   * at the first layer (for display). Absent: the scalar fields apply to every tensor.
   */
  parameters?: ParamSpecs;
  /** Set when `source` is a Hugging Face id (path is then its cache snapshot, when found). */
  hf?: RecipeHfRef | null;
  /** mergekit `model+lora`: a PEFT adapter applied to this model's tensors as they load. */
  lora?: ResolvedPath | null;
}

/** The sce / nuslerp / multislerp / karcher fields are mergekit's defaults unless the method sets them. */
export interface Recipe extends NewerMethodValues {
  method: MergeMethod;
  /** Absolute path of the base model; null only for linear, nuslerp, multislerp, karcher without `base_model`. */
  basePath: string | null;
  baseSource: string | null;
  baseHf?: RecipeHfRef | null;
  /** `base_model: base+lora`. */
  baseLora?: ResolvedPath | null;
  /** tokenizer_source / tokenizer; null or absent = the base model's tokenizer files are copied. */
  tokenizer?: RecipeTokenizer | null;
  /** The YAML text the recipe was parsed from (written as mergekit_config.yml, like mergekit). */
  sourceText?: string | null;
  /** Models that are merged (a `models:` entry naming the base model is dropped for task-vector methods). */
  models: RecipeModel[];
  normalize: boolean;
  lambda: number;
  consensus: Consensus;
  /** dare_*, della*: L1 rescale of the sparsified task vectors (default true for them, false otherwise). */
  rescale: boolean;
  /** dare_*, della*: seed of the random draws (docs/merge-methods.md); 0 by default. */
  seed: number;
  /** dare_*: keep/drop draws from the counter-based generator (default) or mergekit's stream; della*: always mergekit's. */
  randomStream: RandomStream;
  /** Threshold ties of magnitude cuts: mergekit's order (default, byte-identical) or lowest flat index first. */
  tieOrder: TieOrder;
  /** breadcrumbs*: keep the density fraction when int(gamma * numel) is 0 (mergekit drops the tensor's task vector). */
  keepIfNoOutliers: boolean;
  /** slerp: interpolation factor; nearswap: distance scale (required for both; 0 otherwise). */
  t: number;
  /** model_stock: one interpolation ratio per row. */
  filterWise: boolean;
  /** Memory optimisation in mergekit (int8 sign masks); numerically irrelevant. */
  int8Mask: boolean;
  slack: number;
  slackScope: SlackScope;
  /** mergekit `dtype`: arithmetic dtype; null = each tensor's storage dtype. */
  dtype: RecipeDtype | null;
  /** mergekit `out_dtype`; null = the compute dtype, or the storage dtype when `dtype` is absent. */
  outDtype: RecipeDtype | null;
  /** What the parser decided on the user's behalf (defaults, dropped entries, no-op keys). */
  notes: string[];
  /**
   * Top-level gradient / filter-list values (lambda, t, and per-model fallbacks); with
   * `slices`, also the plain per-model fallbacks (weight, density, gamma, scale).
   */
  parameters?: ParamSpecs;
  /**
   * mergekit `slices:` (then `models` lists every model the slices use, base excluded for
   * task-vector methods, in order of first appearance). null/absent: a `models:` recipe.
   */
  slices?: RecipeSlice[] | null;
}

const TO_STORAGE: Record<RecipeDtype, StorageDtype> = { float32: "F32", float16: "F16", bfloat16: "BF16" };
const FROM_STORAGE: Record<StorageDtype, RecipeDtype> = { F32: "float32", F16: "float16", BF16: "bfloat16" };

export function storageDtypeOf(d: RecipeDtype): StorageDtype {
  return TO_STORAGE[d];
}

/** The torch_dtype string Hugging Face configs use for a safetensors dtype. */
export function torchDtypeName(d: StorageDtype): RecipeDtype {
  return FROM_STORAGE[d];
}

export function computeDtypeOf(d: RecipeDtype | null): ComputeDtype {
  return d === null ? "storage" : TO_STORAGE[d];
}
