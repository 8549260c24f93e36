// mergekit `sce` (test/fixtures/golden/README.md "sce"): a variance top-k trim shared by all
// models, the sum sign election and per-model weights mean(tv^2) / sum. Written from the spec,
// position by position; sums over elements in float64 (sequential), rounded once.
//   "native": every elementwise op rounded to the storage dtype (torch on 16-bit tensors);
//   "f32":    the same op sequence in float32 (what mergekit's float32 run does).
import { roundTo } from "@/server/engine/dtype";
import { torchTopkIndices } from "./torchTopk";
import type { Precision, RefTensor } from "./types";

export interface SceOptions extends Precision {
  /** Fraction of positions kept by variance; >= 1 keeps all, <= 0 none. */
  selectTopk: number;
}

export interface SceModelStats {
  nnz: number;
  contributing: number;
  discarded: number;
  discardedL1: number;
  inConflict: number;
  conflictsWon: number;
}

export interface SceResult {
  merged: Float32Array;
  /** null: select_topk >= 1 (no trim). */
  k: number | null;
  /** The k-th largest variance (null without trim or with k = 0). */
  threshold: number | null;
  nGreater: number;
  nEqual: number;
  nKeptAtThreshold: number;
  /** Per-model weights after normalisation. */
  weights: number[];
  models: SceModelStats[];
  signConflicts: number;
  noContributor: number;
  majorityNegative: number;
}

export function sce(base: RefTensor, models: RefTensor[], opts: SceOptions): SceResult {
  const R = opts.mode === "native" ? (x: number) => roundTo(opts.dtype, x) : Math.fround;
  const f = Math.fround;
  const n = base.data.length;
  const N = models.length;
  const tv = models.map((m) => Float32Array.from(m.data, (x, j) => R(x - base.data[j]!)));
  let k: number | null = null;
  let threshold: number | null = null;
  let nGreater = 0;
  let nEqual = 0;
  let nKeptAtThreshold = 0;
  const kept = new Uint8Array(n).fill(1);
  if (opts.selectTopk < 1) {
    kept.fill(0);
    k = 0;
    if (opts.selectTopk > 0) {
      const variance = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        let mean = 0;
        for (let i = 0; i < N; i++) mean += tv[i]![j]!;
        mean /= N;
        let m2 = 0;
        for (let i = 0; i < N; i++) m2 += (tv[i]![j]! - mean) ** 2;
        variance[j] = R(f(m2 / N));
      }
      let nonzero = 0;
      for (const v of variance) if (v !== 0) nonzero++;
      k = Math.trunc(f(f(nonzero) * f(opts.selectTopk))); // float32 product (README: 29 of 100 at 0.29)
      if (k > 0) {
        const idx = torchTopkIndices(variance, k);
        for (const j of idx) kept[j] = 1;
        threshold = idx.reduce((m, j) => Math.min(m, variance[j]!), Infinity);
        for (const v of variance) {
          if (v > threshold) nGreater++;
          else if (v === threshold) nEqual++;
        }
        nKeptAtThreshold = k - nGreater;
      }
    }
  }
  const tvm = tv.map((t) => Float32Array.from(t, (x, j) => (kept[j] ? x : x * 0)));
  const w = tvm.map((t) => {
    let s = 0;
    for (const x of t) s += R(f(x * x));
    return R(f(R(f(s)) / f(n)));
  });
  let ws = 0;
  for (const x of w) ws = f(ws + x);
  const wsum = R(ws);
  const weights = w.map((x) => (Math.abs(wsum) < 1e-6 ? R(f(1 / N)) : R(f(x / f(wsum)))));
  const denMin = R(f(1e-6));
  const merged = new Float32Array(n);
  const stats: SceModelStats[] = models.map(() => ({ nnz: 0, contributing: 0, discarded: 0, discardedL1: 0, inConflict: 0, conflictsWon: 0 }));
  let signConflicts = 0;
  let noContributor = 0;
  let majorityNegative = 0;
  for (let j = 0; j < n; j++) {
    let s = 0;
    let pos = false;
    let neg = false;
    for (let i = 0; i < N; i++) {
      const x = tvm[i]![j]!;
      s = f(s + x);
      pos ||= x > 0;
      neg ||= x < 0;
    }
    const maj = R(s) >= 0 ? 1 : -1;
    let num = 0;
    let den = 0;
    let any = false;
    const conflict = pos && neg;
    for (let i = 0; i < N; i++) {
      const x = tvm[i]![j]!;
      const c = Math.sign(x) === maj;
      const ew = c ? weights[i]! : 0;
      num = f(num + R(f(x * ew)));
      den = f(den + ew);
      any ||= c;
      const st = stats[i]!;
      if (x !== 0) {
        st.nnz++;
        if (c) st.contributing++;
        else {
          st.discarded++;
          st.discardedL1 += Math.abs(x);
        }
        if (conflict) {
          st.inConflict++;
          if (c) st.conflictsWon++;
        }
      }
    }
    let d = R(den);
    if (d < denMin) d = denMin;
    merged[j] = R(f(base.data[j]! + R(f(R(num) / d))));
    if (conflict) signConflicts++;
    if (!any) noContributor++;
    if (maj < 0) majorityNegative++;
  }
  return { merged, k, threshold, nGreater, nEqual, nKeptAtThreshold, weights, models: stats, signConflicts, noContributor, majorityNegative };
}
