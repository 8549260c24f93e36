// mergekit `model_stock` (Jang et al. 2024): interpolate between the base w_0 and the average
// of N >= 2 fine-tuned models, with a ratio t from the models' mean pairwise cosine:
//   off_i = R(w_i - w_0)
//   cos_ij = clamp(R(R(dot(off_i, off_j)) / max(R(R(|off_i|) * R(|off_j|)), 1e-6)), -1, 1)   (float64 sums)
//   cos = R(R(sum over pairs i < j of cos_ij) / #pairs); t = R(R(N * cos) / R(1 + R((N - 1) * cos)))
//   avg = R(R(w_1 + ... + w_N) / N); out = R(R(t * avg) + R(R(1 - t) * w_0))
// R = the compute mode's rounding (arith.ts). With filterWise, every row along the last
// dimension gets its own t (mergekit's cosine similarity over dim -1).
import { makeArith } from "./arith";
import { alignToBase } from "./embed";
import { tiledSum } from "./sum64";
import type { Precision, RefTensor } from "./types";

/** Floor of the norm product, as float32 (a scalar operand, not rounded to the storage dtype). */
const COS_EPS = Math.fround(1e-6);

export interface ModelStockOptions extends Precision {
  filterWise?: boolean; // default false
  isEmbed?: boolean;
}

export interface ModelStockResult {
  merged: Float32Array;
  /** Interpolation ratio per row (filterWise) or a single one. */
  t: number[];
  /** Mean of `t` (float64): what the statistics report. */
  interpolationT: number;
}

export function modelStock(base: RefTensor, models: readonly RefTensor[], options: ModelStockOptions): ModelStockResult {
  if (models.length < 2) throw new Error(`model_stock: needs at least 2 models besides the base, got ${models.length}`);
  const arith = makeArith(options);
  const w0 = base.data;
  const numel = w0.length;
  const ws = models.map((m, i) => alignToBase(m, base.shape, options.isEmbed ?? false, `model_stock model ${i}`));
  const offsets = ws.map((w) => w.map((x, j) => arith.sub(x, w0[j]!)));
  const n = models.length;
  const rowLength = options.filterWise ? (base.shape.at(-1) ?? 1) : numel;
  const merged = new Float32Array(numel);
  const ts: number[] = [];
  for (let start = 0; start < numel; start += Math.max(rowLength, 1)) {
    const len = Math.min(rowLength, numel - start);
    const t = interpolationRatio(offsets, start, len, arith);
    ts.push(t);
    const oneMinusT = arith.sub(1, t);
    for (let j = start; j < start + len; j++) {
      let acc = ws[0]![j]!;
      for (let i = 1; i < n; i++) acc = arith.add(acc, ws[i]![j]!);
      const avg = arith.div(acc, n);
      merged[j] = arith.output(arith.add(arith.mul(t, avg), arith.mul(oneMinusT, w0[j]!)));
    }
  }
  return { merged, t: ts, interpolationT: ts.reduce((s, t) => s + t, 0) / Math.max(ts.length, 1) };
}

/** t for the elements [start, start + len) of every offset vector. */
function interpolationRatio(offsets: Float32Array[], start: number, len: number, arith: ReturnType<typeof makeArith>): number {
  const sum = (term: (j: number) => number) => tiledSum(len, (k) => term(start + k));
  const norms = offsets.map((o) => arith.keep(Math.sqrt(sum((j) => o[j]! * o[j]!))));
  const cosines: number[] = [];
  for (let a = 0; a < offsets.length; a++) {
    for (let b = a + 1; b < offsets.length; b++) {
      const dot = arith.keep(sum((j) => offsets[a]![j]! * offsets[b]![j]!));
      const cos = arith.div(dot, Math.max(arith.mul(norms[a]!, norms[b]!), COS_EPS));
      cosines.push(Math.min(1, Math.max(-1, cos)));
    }
  }
  const n = offsets.length;
  const cos = arith.div(arith.sum(cosines), cosines.length); // mean: f32 sum rounded once, then / #pairs
  return arith.div(arith.mul(n, cos), arith.add(1, arith.mul(n - 1, cos)));
}
