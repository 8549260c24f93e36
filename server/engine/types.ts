// The contract between the TypeScript engine layer and the native addon.
// Plain data only: the N-API binding converts these objects to C++ structs.
// Counts are JS numbers (exact up to 2^53, far above any tensor size).

export type MergeMethod = "linear" | "task_arithmetic" | "ties" | "ties_sv";
export type Consensus = "sum" | "count";
export type SlackScope = "model" | "tensor";
export type StorageDtype = "F32" | "F16" | "BF16";
/** `storage`: arithmetic in each tensor's storage dtype (mergekit without `dtype`). */
export type ComputeDtype = "storage" | StorageDtype;

export interface NativeModelInput {
  path: string; // model directory or .safetensors file (absolute)
  weight: number;
  density: number; // >= 1 keeps the whole task vector
  favored: boolean; // ties_sv: the SFT model
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
  /** null only for `linear` (no base model); the first model then defines the tensor set. */
  basePath: string | null;
  models: NativeModelInput[];
  /** Directory (existing, empty) that receives the shards; null = statistics only. */
  outDir: string | null;
  shardSizeBytes: number;
  threads: number; // 0 = all cores
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
  models: NativeModelTensorStats[]; // recipe order
}

export interface NativeShardFile {
  filename: string;
  bytes: number;
  sha256: string;
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
