// Elementwise arithmetic with the rounding behaviour of a compute mode (see ComputeMode).
// Every merge method is written once against this interface, so the two modes can
// only differ in where values are rounded, never in the order of operations.
import { roundTo } from "@/server/engine/dtype";
import type { Precision } from "./types";

export interface Arith {
  /** Round an f32 result to the precision intermediates are kept in. */
  keep(x: number): number;
  sub(a: number, b: number): number;
  mul(a: number, b: number): number;
  div(a: number, b: number): number;
  add(a: number, b: number): number;
  /** A per-model weight: PyTorch builds a tensor of them in the compute dtype. */
  weightValue(w: number): number;
  /** A Python-float scalar operand (lambda): PyTorch keeps it in f32 opmath, not the tensor dtype. */
  scalar(x: number): number;
  /** Sum over models: accumulated in f32, rounded once (PyTorch's reduced-precision reductions). */
  sum(values: readonly number[]): number;
  /** Final rounding of a merged value to the storage dtype. */
  output(x: number): number;
}

/**
 * mergekit's `divisor[divisor.abs() < 1e-8] = 1`: torch casts the Python scalar to the tensor's
 * dtype, so the bound is 1e-8 rounded to f32 (for bf16 divisors the bf16 rounding of 1e-8 admits
 * the same values, and f16 has nothing below it but 0). Comparing with the float64 1e-8 would
 * wrongly replace a divisor of exactly fround(1e-8).
 */
export const DIVISOR_EPSILON = Math.fround(1e-8);

export function makeArith({ dtype, mode }: Precision): Arith {
  const keep = mode === "native" ? (x: number) => roundTo(dtype, x) : Math.fround;
  const f = Math.fround;
  return {
    keep,
    sub: (a, b) => keep(f(a - b)),
    mul: (a, b) => keep(f(a * b)),
    div: (a, b) => keep(f(a / b)),
    add: (a, b) => keep(f(a + b)),
    weightValue: (w) => keep(w),
    scalar: (x) => f(x),
    sum(values) {
      let acc = 0;
      for (const v of values) acc = f(acc + v);
      return keep(acc);
    },
    output: (x) => roundTo(dtype, x),
  };
}
