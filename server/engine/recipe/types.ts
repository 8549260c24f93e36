// A parsed, validated merge recipe: mergekit's YAML vocabulary with every default filled in
// and every model path resolved to an absolute path. Plain data (JSON-serialisable), so it
// can be stored in the output manifest and sent to the UI as is.
import type { ResolvedPath } from "../model-ref/parse-ref";
import type { ComputeDtype, Consensus, MergeMethod, SlackScope, StorageDtype } from "../types";

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
export const TRIM_METHODS: readonly MergeMethod[] = ["ties", "ties_sv", "breadcrumbs", "breadcrumbs_ties", "dare_linear", "dare_ties"];
/** Methods with a sign election (`consensus`). */
export const ELECTION_METHODS: readonly MergeMethod[] = ["ties", "ties_sv", "breadcrumbs_ties", "dare_ties"];
/** Methods whose models carry a `weight`. */
export const WEIGHTED_METHODS: readonly MergeMethod[] = MERGE_METHODS.filter((m) => m !== "slerp" && m !== "model_stock");

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
  /** ties_sv: the model whose lost sign elections may be rescued (the SFT model). */
  favored: boolean;
  /** Set when `source` is a Hugging Face id (path is then its cache snapshot, when found). */
  hf?: RecipeHfRef | null;
  /** mergekit `model+lora`: a PEFT adapter applied to this model's tensors as they load. */
  lora?: ResolvedPath | null;
}

export interface Recipe {
  method: MergeMethod;
  /** Absolute path of the base model; null only for `linear` without `base_model`. */
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
  /** dare_*: L1 rescale of the sparsified task vectors (default true for dare, false otherwise). */
  rescale: boolean;
  /** dare_*: seed of the keep/drop generator (docs/merge-methods.md); 0 by default. */
  seed: number;
  /** breadcrumbs*: keep the density fraction when int(gamma * numel) is 0 (mergekit drops the tensor's task vector). */
  keepIfNoOutliers: boolean;
  /** slerp: interpolation factor (required for slerp; 0 otherwise). */
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
