import type { FloatDType } from "@/server/engine/dtype";

/**
 * "f32": inputs widened to f32, every operation in f32, result rounded once to the storage dtype.
 * "native": every elementwise op computed in f32 and immediately rounded to the storage dtype
 *           (what PyTorch does for bf16/f16 tensors on CPU). Identical to "f32" for F32 storage.
 */
export type ComputeMode = "f32" | "native";

export interface Precision {
  /** dtype the checkpoints are stored in; the output is written in it too. */
  dtype: FloatDType;
  mode: ComputeMode;
}

/** A tensor's values widened to f32 (exact for F32/F16/BF16 inputs), row-major. */
export interface RefTensor {
  shape: number[];
  data: Float32Array;
}

export type Consensus = "sum" | "count";
