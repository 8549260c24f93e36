// The contract between the TypeScript engine layer and the native addon.
// Plain data only: the N-API binding converts these objects to C++ structs.
// Counts are JS numbers (exact up to 2^53, far above any tensor size).

/** Every merge method the engine runs (mergekit's names; docs/merge-methods.md). */
export const MERGE_METHODS = [
  "linear",
  "task_arithmetic",
  "ties",
  "ties_sv",
  "breadcrumbs",
  "breadcrumbs_ties",
  "dare_linear",
  "dare_ties",
  "slerp",
  "model_stock",
  "passthrough",
  "della",
  "della_linear",
  "sce",
  "nuslerp",
  "multislerp",
  "karcher",
  "arcee_fusion",
  "nearswap",
] as const;
export type MergeMethod = (typeof MERGE_METHODS)[number];
/** Methods that run without a base model (karcher averages the base too when one is given). */
export const BASE_OPTIONAL_METHODS: readonly MergeMethod[] = ["linear", "passthrough", "nuslerp", "multislerp", "karcher"];
export type Consensus = "sum" | "count";
export type SlackScope = "model" | "tensor";
export type StorageDtype = "F32" | "F16" | "BF16";
/** `storage`: arithmetic in each tensor's storage dtype (mergekit without `dtype`). */
export type ComputeDtype = "storage" | StorageDtype;
/**
 * Which of several entries with the threshold magnitude a top-k cut keeps: `mergekit` = those
 * torch's sort places first (byte-identical to mergekit), `index` = the lowest flat indices.
 */
export type TieOrder = "mergekit" | "index";
export const TIE_ORDERS: readonly TieOrder[] = ["mergekit", "index"];
/** DARE's keep/drop draws: MergeScope's counter-based generator, or mergekit's stream (torch's MT19937 after `--random-seed`). */
export type RandomStream = "counter" | "mergekit";
export const RANDOM_STREAMS: readonly RandomStream[] = ["counter", "mergekit"];

/** mergekit 0.1.4's defaults of the newer methods' request fields. */
export const NEWER_METHOD_DEFAULTS = {
  selectTopk: 1,
  nuslerpFlatten: true,
  nuslerpRowWise: false,
  normalizeWeights: true,
  eps: 1e-8,
  maxIter: 10,
  tol: 1e-5,
} as const satisfies Partial<NativeMergeRequest>;

/** A PEFT LoRA adapter applied to one model's tensors as they load (native/core/input_transforms.h). */
export interface NativeLoraAdapter {
  /** adapter_model.safetensors (absolute). */
  adapterPath: string;
  /** One entry per modified tensor: W += (B @ A) * scale (transposed for fan_in_fan_out / embeddings). */
  targets: { tensor: string; a: string; b: string; scale: number; transpose: boolean }[];
}

/** Model indices in row maps: -1 = the base model, 0.. = models[i], -2 = zeros. */
export const ROW_SOURCE_BASE = -1;
export const ROW_SOURCE_ZEROS = -2;

/** One model's embedding / lm_head matrix rebuilt in the output vocabulary (tokenizer_source). */
export interface NativeEmbedRowMap {
  rows: number;
  /** Flattened [outRow, count, srcModel, srcRow] quadruples. */
  runs: number[];
  /** Rows averaged over several models' rows ([srcModel, srcRow] pairs, summed in order). */
  averages: { row: number; sources: number[] }[];
  /** Rows >= padFrom get the column mean of the rows before (pad_to_multiple_of); null = none. */
  padFrom: number | null;
}

export interface NativeInputTransforms {
  lora: NativeLoraAdapter | null;
  embedRows: NativeEmbedRowMap | null;
}

export interface NativeModelInput {
  path: string; // model directory or .safetensors file (absolute)
  weight: number;
  density: number; // >= 1 keeps the whole task vector
  favored: boolean; // ties_sv: the SFT model
  gamma: number; // breadcrumbs*: fraction of largest-magnitude entries removed (mergekit default 0.01)
  epsilon: number; // della*: keep probabilities span density -+ epsilon (mergekit default 0.15)
  scale?: number | null; // passthrough: the tensor is multiplied by it (null/absent: copied unchanged)
  /** Applied while this model's tensors load; absent = none. */
  transforms?: NativeInputTransforms;
}

/** One input of a planned tensor: a tensor of one of the plan's sources. */
export interface NativePlanInputRef {
  source: number; // index into NativePlan.sources
  tensor: string; // tensor name in that source
}

/** A model input of a planned tensor, with the model's parameter values resolved for this tensor. */
export interface NativePlanInput extends NativePlanInputRef, Omit<NativeModelInput, "path"> {
  /** Index into NativeMergeRequest.models (the report's model list); not read by the engine. */
  slot: number;
}

export interface NativePlanTensor {
  /** Output tensor name. */
  name: string;
  base: NativePlanInputRef | null;
  inputs: NativePlanInput[];
  /** Global values resolved for this tensor. */
  lambda: number;
  t: number;
}

/**
 * Explicit per-tensor plan (gradients, filters, slices; server/engine/plan): the engine reads
 * each output tensor from the listed inputs with these parameters instead of matching names.
 */
export interface NativePlan {
  /** Absolute paths of every model read (each opened once). */
  sources: string[];
  /** In output order (sorted by name). */
  tensors: NativePlanTensor[];
}

export interface NativeMergeRequest {
  method: MergeMethod;
  consensus: Consensus;
  normalize: boolean;
  lambda: number;
  computeDtype: ComputeDtype;
  /** null: the compute dtype when it is not `storage`, else the base tensor's storage dtype. */
  outDtype: StorageDtype | null;
  slack: number;
  slackScope: SlackScope;
  /** dare_*: rescale each sparsified task vector to its original L1 norm (mergekit default true for dare). */
  rescale: boolean;
  /**
   * dare_*, della*: seed of the random draws (integer in [0, 2^53)): the counter-based generator's, or
   * mergekit's stream's (`--random-seed`; torch.manual_seed uses seed mod 2^32); see docs/merge-methods.md.
   */
  seed: number;
  /** dare_*: which generator draws the keep masks (della* always uses mergekit's stream). */
  randomStream: RandomStream;
  /** Threshold ties of top-k cuts (ties, ties_sv, breadcrumbs*, della*'s ranks, density sweeps). */
  tieOrder: TieOrder;
  /**
   * breadcrumbs*: when int(gamma * numel) is 0, mergekit's slice `[n_bot:-0]` is empty and the
   * whole task vector is dropped. false reproduces that; true keeps the int(density * numel)
   * largest entries (the intended behaviour).
   */
  keepIfNoOutliers: boolean;
  /** slerp: interpolation factor from the base (0) to the other model (1); nearswap: the distance scale. */
  t: number;
  /** model_stock: one interpolation ratio per row (last dimension) instead of per tensor. */
  filterWise: boolean;
  // The newer methods' own parameters are optional here: runNativeMerge fills mergekit's
  // defaults (NEWER_METHOD_DEFAULTS), so requests of the other methods need not name them.
  /** sce: fraction of positions kept by the variance of the task vectors over the models (>= 1 keeps all). */
  selectTopk?: number;
  /** nuslerp: the whole tensor is one vector (mergekit default true). */
  nuslerpFlatten?: boolean;
  /** nuslerp without flatten: vectors along dim 0 (columns) instead of the last dim (rows). */
  nuslerpRowWise?: boolean;
  /** multislerp: divide the weights by their sum (mergekit default true). */
  normalizeWeights?: boolean;
  /** multislerp: offset added to each norm (mergekit default 1e-8). */
  eps?: number;
  /** karcher: iteration limit (mergekit default 10). */
  maxIter?: number;
  /** karcher: convergence tolerance (mergekit default 1e-5). */
  tol?: number;
  /**
   * Analysis only (outDir null), ties family: statistics for every combination of these
   * densities across the models, from one pass (result.sweep). null = a single analysis.
   */
  densities: number[] | null;
  /**
   * Series pass (analysis only, ties, `densities` given): models[0] is the SFT, models[1..] the CT
   * checkpoints; result.series[i] is the density sweep of (base, SFT, models[i + 1]), read in one
   * pass (base and SFT once, each CT once). Absent/false = not a series.
   */
  series?: boolean;
  /** null only for linear, nuslerp, multislerp, karcher (no base model); the first model then defines the tensor set. */
  basePath: string | null;
  /** Transforms of the base model's tensors (LoRA, embedding row map); absent = none. */
  baseTransforms?: NativeInputTransforms;
  models: NativeModelInput[];
  /** Directory (existing, empty) that receives the shards; null = statistics only. */
  outDir: string | null;
  shardSizeBytes: number;
  threads: number; // 0 = all cores
  /** null/absent: tensors matched by name, the parameters above for every tensor. */
  plan?: NativePlan | null;
  /**
   * Folders the engine may read from (realpath containment checked on every file it opens,
   * native/core/path_policy.h); null/absent = any readable file (the local CLI).
   */
  allowedRoots?: string[] | null;
}

export interface NativeModelTensorStats {
  weight: number;
  density: number;
  trimmed: boolean; // density < 1
  k: number; // int(density * numel), or numel when not trimmed
  threshold: number | null; // k-th largest |delta| (null when not trimmed or k = 0)
  nGreaterThanThreshold: number;
  nEqualToThreshold: number;
  nKeptAtThreshold: number;
  nnzTrimmed: number;
  discarded: number; // non-zero trimmed entries dropped by the sign election
  discardedL1: number; // their L1 mass (sum of |trimmed delta|)
  rescued: number; // ties_sv: favored entries kept thanks to the slack
  contributing: number;
  inConflict: number; // non-zero trimmed entries at sign-conflict positions
  conflictsWon: number; // conflict positions where this model's sign is elected
  nTopRemoved: number; // breadcrumbs*: largest-magnitude entries removed (0 otherwise)
  topThreshold: number | null; // breadcrumbs*: smallest removed |delta| among them (null when none)
  rescaleFactor: number | null; // dare_*, della* with rescale: the L1 factor applied (null: not rescaled)
  /** mergekit stream: position of the model's first draw in the run's stream (null: no draws). */
  randomFirstDraw: number | null;
  randomDraws: number;
  /** mergekit stream: smallest / largest keep probability (della: the rank-dependent range; null: no draws). */
  keepProbabilityMin: number | null;
  keepProbabilityMax: number | null;
}

export interface NativeTensorStats {
  name: string;
  shape: number[];
  dtype: StorageDtype; // output dtype of this tensor
  numel: number;
  rowCut: boolean; // an embedding was cut to the base's rows
  signConflicts: number;
  noContributor: number;
  majorityNegative: number;
  svCandidates: number;
  svReserved: number;
  interpolationT: number | null; // model_stock: the (mean over rows) interpolation ratio t; slerp: the recipe t; nuslerp: w2 / (w1 + w2)
  // The newer methods' statistics (the addon always sets them; optional for hand-made results):
  /** nearswap: positions that take the model's value (|base - model| <= t); arcee_fusion: positions kept by the importance mask; else null. */
  selected?: number | null;
  /** nuslerp: vectors interpolated linearly because they are colinear (0 for other methods). */
  fallbackVectors?: number;
  /** karcher: iterations run (0 for other methods). */
  iterations?: number;
  /** Task-vector geometry (ties family, density sweep; null for other methods; absent in hand-made results). */
  geometry?: NativeTensorGeometry | null;
  models: NativeModelTensorStats[]; // recipe order
}

/**
 * Task-vector geometry of one tensor (docs/merge-methods.md "Task-vector geometry"): tau_i =
 * R(x_i - base), the untrimmed task vector in the compute dtype. Pair values are for the first
 * two inputs (null with one input).
 */
export interface NativeTensorGeometry {
  /** Per input: sum of tau_i^2 (float64, fixed summation order). */
  sumSq: number[];
  /** sum tau_0 * tau_1. */
  dot: number | null;
  /** Positions where tau_0 and tau_1 are both non-zero, and where their signs agree among them. */
  bothNonzero: number | null;
  signsAgree: number | null;
  /** Magnitude top-k trims (ties, ties_sv, sweep): positions kept by both trims / by either (null otherwise). */
  maskIntersection: number | null;
  maskUnion: number | null;
}

/** One grid point of a density sweep: the statistics a single analysis at these densities returns. */
export interface NativeSweepPoint {
  densities: number[]; // per model, recipe order
  tensors: NativeTensorStats[]; // sorted by name
}

export interface NativeShardFile {
  filename: string;
  bytes: number;
  sha256: string;
}

/** ties_sv lost-election margins (native/core/merge_kernels.h "Lost-election margins"). */
export interface NativeMargins {
  /** The 61 bin edges E_0..E_60 (1e-9 .. 1e1, as floats). */
  edges: number[];
  /** 63 bins each: candidates, and reserved candidates. */
  candidates: number[];
  reserved: number[];
  /** Model scope with a budget > 0: the cut (reserved: margin < cut, and takenAtCut of the atCut at it); else null. */
  cut: number | null;
  atCut: number | null;
  takenAtCut: number | null;
}

export interface NativeMergeResult {
  tensors: NativeTensorStats[]; // sorted by name
  shards: NativeShardFile[]; // empty for statistics only
  indexFile: string | null; // "model.safetensors.index.json" when several shards
  warnings: string[];
  bytesRead: number;
  bytesWritten: number;
  seconds: number;
  slackBudget: number | null; // ties_sv model scope: R
  /** ties_sv: the favored model's lost-election margins over the whole model (stats/margins.ts); null otherwise, absent in hand-made results. */
  margins?: NativeMargins | null;
  sweep: NativeSweepPoint[] | null; // request.densities given: every combination, first model's density varying slowest
  /** request.series: per CT checkpoint, the sweep of (base, SFT, that CT) and what it alone would warn. */
  series?: NativeSeriesCheckpoint[];
}

export interface NativeSeriesCheckpoint {
  sweep: NativeSweepPoint[];
  warnings: string[];
}

export type MergePhase = "plan" | "slack" | "merge" | "analyze";

export interface NativeProgress {
  phase: MergePhase;
  tensorsDone: number;
  tensorsTotal: number;
  bytesDone: number;
  bytesTotal: number;
  tensor: string;
}

export interface NativeInspectResult {
  path: string;
  shards: string[];
  parameterCount: number;
  totalBytes: number;
  tensors: { name: string; dtype: string; shape: number[] }[];
}

/** Error raised by the native engine; `code` is a stable name from native/core/errors.h. */
export interface NativeEngineError extends Error {
  code: string;
}
