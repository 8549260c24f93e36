// mergekit `slerp`: spherical interpolation from the base (t = 0) to one other model (t = 1),
// over each tensor flattened. Always float32 arithmetic (mergekit converts to numpy float32),
// whatever the compute mode; the norms, dot product and coefficients are float64 (chunked
// sums, see sum64.ts), which moves outputs by at most 1 ULP of the storage dtype vs mergekit.
import type { FloatDType } from "@/server/engine/dtype";
import { roundTo } from "@/server/engine/dtype";
import { alignToBase } from "./embed";
import { tiledSum } from "./sum64";
import type { RefTensor } from "./types";

export interface SlerpOptions {
  /** Storage dtype of the output. */
  dtype: FloatDType;
  t: number;
  isEmbed?: boolean;
}

export interface SlerpResult {
  merged: Float32Array;
  /** Coefficients of the base and the model (float64, before rounding to f32). */
  c0: number;
  c1: number;
  /** true when the vectors were (anti)parallel (|dot| > 0.9995) and plain lerp was used. */
  lerp: boolean;
}

/** Where |cos| exceeds this, slerp's sin(theta) is too small to divide by: lerp instead. */
export const SLERP_DOT_THRESHOLD = 0.9995;

export function slerp(base: RefTensor, model: RefTensor, options: SlerpOptions): SlerpResult {
  const { t } = options;
  const v0 = base.data;
  const v1 = alignToBase(model, base.shape, options.isEmbed ?? false, "slerp model");
  const n = v0.length;
  const n0 = Math.sqrt(tiledSum(n, (j) => v0[j]! * v0[j]!));
  const n1 = Math.sqrt(tiledSum(n, (j) => v1[j]! * v1[j]!));
  // A (near-)zero vector is not normalized (mergekit's eps).
  const u0 = n0 > 1e-8 ? n0 : 1;
  const u1 = n1 > 1e-8 ? n1 : 1;
  const dot = tiledSum(n, (j) => v0[j]! * v1[j]!) / (u0 * u1);
  let c0: number;
  let c1: number;
  const lerp = Math.abs(dot) > SLERP_DOT_THRESHOLD;
  if (lerp) {
    c0 = 1 - t;
    c1 = t;
  } else {
    const theta = Math.acos(dot);
    const sinTheta = Math.sin(theta);
    c0 = Math.sin(theta - theta * t) / sinTheta;
    c1 = Math.sin(theta * t) / sinTheta;
  }
  const f = Math.fround;
  const a = f(c0);
  const b = f(c1);
  const merged = new Float32Array(n);
  for (let j = 0; j < n; j++) merged[j] = roundTo(options.dtype, f(f(a * v0[j]!) + f(b * v1[j]!)));
  return { merged, c0, c1, lerp };
}
