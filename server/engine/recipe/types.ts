// A parsed, validated merge recipe: mergekit's YAML vocabulary with every default filled in
// and every model path resolved to an absolute path. Plain data (JSON-serialisable), so it
// can be stored in the output manifest and sent to the UI as is.
import type { ComputeDtype, Consensus, MergeMethod, SlackScope, StorageDtype } from "../types";

/** The torch dtype names mergekit accepts for `dtype` / `out_dtype`. */
export type RecipeDtype = "float32" | "float16" | "bfloat16";

export const RECIPE_DTYPES: readonly RecipeDtype[] = ["float32", "float16", "bfloat16"];
export const MERGE_METHODS: readonly MergeMethod[] = ["linear", "task_arithmetic", "ties", "ties_sv"];

export interface RecipeModel {
  /** Absolute path of the model directory or .safetensors file. */
  path: string;
  /** The path exactly as written in the recipe (model cards show this, not the local absolute path). */
  source: string;
  weight: number;
  /** Fraction of the task vector kept by magnitude trimming (ties, ties_sv); 1 = keep everything. */
  density: number;
  /** ties_sv: the model whose lost sign elections may be rescued (the SFT model). */
  favored: boolean;
}

export interface Recipe {
  method: MergeMethod;
  /** Absolute path of the base model; null only for `linear` without `base_model`. */
  basePath: string | null;
  baseSource: string | null;
  /** Models that are merged (a `models:` entry naming the base model is dropped for task-vector methods). */
  models: RecipeModel[];
  normalize: boolean;
  lambda: number;
  consensus: Consensus;
  /** Accepted for mergekit compatibility; only `false` (or `true` without trimming) is possible, see parse.ts. */
  rescale: boolean;
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
