// Task-vector geometry of one tensor, plainly (the engine's: native/core/merge_kernels.h
// TensorStats::has_geometry; the report's: server/engine/stats/geometry.ts).
// tau_i = R(x_i - base) in the compute precision, untrimmed. Float64 sums in the engine's
// documented order: 1024-element tiles summed in 8 lanes (tiledSum), tiles added in order
// inside each 65536-element chunk, chunks added in order -- so equal sums are bit-identical.
// Masks: the positions the TIES trim keeps (the first k = int(d * n) of magnitudeOrder, every
// position for d >= 1). Pair values: models 0 and 1.
import type { NativeTensorGeometry, TieOrder } from "@/server/engine/types";
import { makeArith } from "./arith";
import { tiledSum } from "./sum64";
import { magnitudeOrder, trimCount } from "./trim";
import type { Precision } from "./types";

export const GEOMETRY_CHUNK = 65536;

/** The engine's per-tensor shape (sums and counts; masks null without `densities`). */
export type TensorGeometryRef = NativeTensorGeometry;

/** sum of term(j), j < n, in the engine's chunked order. */
export function chunkedSum(n: number, term: (j: number) => number): number {
  let total = 0;
  for (let c0 = 0; c0 < n; c0 += GEOMETRY_CHUNK) {
    const m = Math.min(GEOMETRY_CHUNK, n - c0);
    total += tiledSum(m, (j) => term(c0 + j));
  }
  return total;
}

/** Positions a magnitude top-k trim at `density` keeps (1 = kept). */
export function keptMask(delta: Float32Array, density: number, tieOrder: TieOrder): Uint8Array {
  const keep = new Uint8Array(delta.length);
  if (density >= 1) return keep.fill(1);
  const k = Math.max(0, trimCount(density, delta.length));
  if (k === 0) return keep;
  const order = magnitudeOrder(delta, tieOrder);
  for (let r = 0; r < k; r++) keep[order[r]!] = 1;
  return keep;
}

export function tensorGeometry(
  base: Float32Array,
  models: readonly Float32Array[],
  precision: Precision,
  densities: readonly number[] | null,
  tieOrder: TieOrder = "mergekit",
): TensorGeometryRef {
  const a = makeArith(precision);
  const n = base.length;
  const tau = models.map((x) => Float32Array.from(x, (v, j) => a.sub(v, base[j]!)));
  const sumSq = tau.map((t) => chunkedSum(n, (j) => t[j]! * t[j]!));
  if (tau.length < 2) return { sumSq, dot: null, bothNonzero: null, signsAgree: null, maskIntersection: null, maskUnion: null };
  const [t0, t1] = [tau[0]!, tau[1]!];
  let both = 0;
  let agree = 0;
  for (let j = 0; j < n; j++) {
    if (t0[j] !== 0 && t1[j] !== 0) both++;
    if ((t0[j]! > 0 && t1[j]! > 0) || (t0[j]! < 0 && t1[j]! < 0)) agree++;
  }
  let maskIntersection: number | null = null;
  let maskUnion: number | null = null;
  if (densities) {
    const m0 = keptMask(t0, densities[0]!, tieOrder);
    const m1 = keptMask(t1, densities[1]!, tieOrder);
    maskIntersection = 0;
    maskUnion = 0;
    for (let j = 0; j < n; j++) {
      maskIntersection += m0[j]! & m1[j]!;
      maskUnion += m0[j]! | m1[j]!;
    }
  }
  return { sumSq, dot: chunkedSum(n, (j) => t0[j]! * t1[j]!), bothNonzero: both, signsAgree: agree, maskIntersection, maskUnion };
}
