// mergekit `nearswap` and `arcee_fusion` (test/fixtures/golden/README.md "Method semantics"):
// the base and one model, mixed element by element. The torch op sequence in the compute
// dtype ("native": rounded to the storage dtype after every op; "f32": float32 ops).
// Elementary functions of float32 values are float64 functions rounded to float32.
import { roundTo } from "@/server/engine/dtype";
import type { Precision, RefTensor } from "./types";

const f = Math.fround;

function rounder(p: Precision): (x: number) => number {
  return p.mode === "native" ? (x: number) => roundTo(p.dtype, x) : f;
}

export interface NearswapResult {
  merged: Float32Array;
  /** positions whose weight is 1 (the model's value is taken). */
  swapped: number;
}

/** w = clamp(t / clamp(|base - model|, min=1e-6), 0, 1); out = w model + (1 - w) base. */
export function nearswap(base: RefTensor, model: RefTensor, opts: Precision & { t: number }): NearswapResult {
  const R = rounder(opts);
  const lo = R(f(1e-6));
  const t = f(opts.t);
  const merged = new Float32Array(base.data.length);
  let swapped = 0;
  base.data.forEach((b, j) => {
    const x = model.data[j]!;
    const y = Math.max(R(Math.abs(R(f(b - x)))), lo);
    const w = Math.min(1, Math.max(0, R(f(R(f(1 / y)) * t)))); // t / y = reciprocal(y) * t in torch
    if (w === 1) swapped++;
    merged[j] = R(f(R(f(w * x)) + R(f(R(f(1 - w)) * b))));
  });
  return { merged, swapped };
}

export interface ArceeFusionResult {
  /** float32 values: mergekit returns float32 whatever the input dtype. */
  merged: Float32Array;
  threshold: number;
  kept: number;
  /** per position: importance |model - base| * KL(row) as the engine computes it */
  importance: Float32Array;
}

/** Rows of the last dimension (a 1-D tensor is one row). */
export function arceeFusion(base: RefTensor, model: RefTensor, opts: Precision): ArceeFusionResult {
  const R = rounder(opts);
  const n = base.data.length;
  const L = base.shape.length > 0 ? base.shape[base.shape.length - 1]! : n;
  const rows = n / L;
  const epsAdd = R(f(1e-8));
  const softmax = (x: Float32Array): Float32Array => {
    let mx = -Infinity;
    for (const v of x) mx = Math.max(mx, v);
    const e = Float32Array.from(x, (v) => f(Math.exp(f(v - mx))));
    let s = 0;
    for (const v of e) s += v;
    const inv = f(1 / f(s));
    return Float32Array.from(e, (v) => R(f(R(f(v * inv)) + epsAdd)));
  };
  const importance = new Float32Array(n);
  for (let r = 0; r < rows; r++) {
    const x = model.data.subarray(r * L, (r + 1) * L);
    const b = base.data.subarray(r * L, (r + 1) * L);
    const p = softmax(x);
    const q = softmax(b);
    let kl = 0;
    for (let j = 0; j < L; j++) kl += R(f(p[j]! * R(f(Math.log(R(f(p[j]! / q[j]!)))))));
    const klr = R(f(kl));
    for (let j = 0; j < L; j++) importance[r * L + j] = R(f(R(Math.abs(R(f(x[j]! - b[j]!)))) * klr));
  }
  const sorted = Float32Array.from(importance).sort(); // ascending; NaN last
  const at = (q: number) => sorted[Math.min(n - 1, Math.trunc(f(f(q) * f(n - 1))))]!;
  const threshold = R(f(at(0.5) + R(f(f(1.5) * R(f(at(0.75) - at(0.25)))))));
  const merged = new Float32Array(n);
  let kept = 0;
  for (let j = 0; j < n; j++) {
    const keep = importance[j]! >= threshold;
    if (keep) kept++;
    const d = R(f(model.data[j]! - base.data[j]!));
    merged[j] = f(base.data[j]! + (keep ? d : d * 0)); // float32 add: not rounded to the dtype
  }
  return { merged, threshold, kept, importance };
}

/**
 * arcee_fusion's importance and threshold evaluated in float64 (no rounding): how far a position
 * is from the mask decision. torch's float32 KL divergences carry ~1% rounding noise (a sum of
 * terms that cancel), so engines agree on the mask only away from the threshold.
 */
export function arceeImportance64(base: RefTensor, model: RefTensor): { importance: Float64Array; threshold: number } {
  const n = base.data.length;
  const L = base.shape.length > 0 ? base.shape[base.shape.length - 1]! : n;
  const softmax = (x: Float32Array) => {
    let mx = -Infinity;
    for (const v of x) mx = Math.max(mx, v);
    const e = Float64Array.from(x, (v) => Math.exp(v - mx));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s + 1e-8);
  };
  const importance = new Float64Array(n);
  for (let r = 0; r < n / L; r++) {
    const x = model.data.subarray(r * L, (r + 1) * L);
    const b = base.data.subarray(r * L, (r + 1) * L);
    const p = softmax(x);
    const q = softmax(b);
    let kl = 0;
    for (let j = 0; j < L; j++) kl += p[j]! * Math.log(p[j]! / q[j]!);
    for (let j = 0; j < L; j++) importance[r * L + j] = Math.abs(x[j]! - b[j]!) * kl;
  }
  const sorted = Float64Array.from(importance).sort();
  const at = (q: number) => sorted[Math.trunc(f(f(q) * f(n - 1)))]!;
  return { importance, threshold: at(0.5) + 1.5 * (at(0.75) - at(0.25)) };
}
