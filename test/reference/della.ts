// DELLA (Deep et al. 2024; mergekit `della`, `della_linear`): each task vector keeps entries at
// random with a probability that grows with the entry's magnitude rank in its row, then the
// survivors are rescaled to the original L1 norm; then TIES' election (della) or none
// (della_linear). mergekit 0.1.4's `sparsify.della_magprune`, op by op, in the work dtype W
// (BF16 for a BF16 task vector, else float32; every op rounded to W):
//   rows: a 2-D tensor's dim-0 slices, a 1-D tensor is one row
//   ranks = argsort(argsort(|d|, ascending)).to(W) + 1      (torch's sort: introsort tie order)
//   rank_norm = clamp((ranks - min) / (max - min), 0, 1)
//   p = (density - epsilon) + rank_norm * 2 * epsilon       (scalar + tensor: the scalar is rounded to W first)
//   keep = bernoulli(p): one MT19937 draw per element in row-major order (mt19937.ts)
//   rescale: ratio = sum|d| / sum|d * keep| (torch's sum order, rounded to W) unless one is < 1e-7
// Draws come from one stream per merge: seeded once, tensors in name order, models in recipe
// order, numel draws per model with 0 < density < 1 (README of test/fixtures/golden, DELLA).
import { roundTo, type FloatDType } from "@/server/engine/dtype";
import type { TieOrder } from "@/server/engine/types";
import { makeArith } from "./arith";
import { isEmbedTensorName } from "./embed";
import { bernoulliKeeps, MT19937 } from "./mt19937";
import { disjointMerge, elect, weighTaskVectors, type TiesModel, type TiesOptions, type TiesTensorInput, type WeightedTaskVectors } from "./ties";
import { tiesStats, type TiesTensorStats } from "./tiesStats";
import { torchSum } from "./torchSum";
import { magnitudeOrder, type TrimInfo } from "./trim";
import type { Precision } from "./types";

export const DEFAULT_EPSILON = 0.15;

export interface DellaModel extends TiesModel {
  epsilon?: number; // default 0.15
}

export interface DellaTrimInfo extends TrimInfo {
  // k: kept entries (null when density >= 1); the threshold fields are null.
  rescaleFactor: number | null;
  /** Stream position of the model's first draw (null: no draws). */
  randomFirstDraw: number | null;
  randomDraws: number;
  keepProbabilityMin: number | null;
  keepProbabilityMax: number | null;
  /** The Bernoulli draws (1 = kept), null without draws. */
  keep: Uint8Array | null;
}

export interface DellaTrimOptions extends Precision {
  rescale: boolean;
  tieOrder: TieOrder;
}

export function dellaTrim(
  delta: Float32Array,
  shape: readonly number[],
  density: number,
  epsilon: number,
  rng: MT19937,
  options: DellaTrimOptions,
): { trimmed: Float32Array; info: DellaTrimInfo } {
  const n = delta.length;
  const info: DellaTrimInfo = {
    density, numel: n, k: null, threshold: null, nGreaterThanThreshold: null, nEqualToThreshold: null, nKeptAtThreshold: null,
    rescaleFactor: null, randomFirstDraw: null, randomDraws: 0, keepProbabilityMin: null, keepProbabilityMax: null, keep: null,
  };
  if (density >= 1) return { trimmed: delta.slice(), info };
  if (density <= 0 || n === 0) return { trimmed: new Float32Array(n), info: { ...info, k: 0 } }; // zeros, no draws
  if (!(density + epsilon < 1 && density - epsilon > 0)) throw new Error(`della: density ${density} -+ epsilon ${epsilon} outside (0, 1)`);
  const W: FloatDType = options.mode === "native" && options.dtype === "BF16" ? "BF16" : "F32";
  const rw = (x: number) => (W === "BF16" ? roundTo("BF16", Math.fround(x)) : Math.fround(x));
  const rowLen = shape.length >= 2 ? n / shape[0]! : n;
  const low = rw(density - epsilon); // Python float + W tensor: the scalar is rounded to W first
  const eps32 = Math.fround(epsilon); // W tensor * Python float: float32(epsilon)
  const p = new Float32Array(n);
  const rmin = rw(rw(0) + 1);
  const rmax = rw(rw(rowLen - 1) + 1);
  const den = rw(rmax - rmin);
  for (let r0 = 0; r0 < n; r0 += rowLen) {
    const order = magnitudeOrder(delta.subarray(r0, r0 + rowLen), options.tieOrder, true);
    order.forEach((idx, q) => {
      const rank = rw(rw(q) + 1);
      const rn = Math.min(1, Math.max(0, rw(rw(rank - rmin) / den)));
      p[r0 + idx] = rw(low + rw(rw(rn * 2) * eps32));
    });
  }
  info.randomFirstDraw = rng.drawn;
  info.randomDraws = n;
  const keep = new Uint8Array(n);
  for (let j = 0; j < n; j++) keep[j] = bernoulliKeeps(rng.next(), p[j]!) ? 1 : 0;
  info.k = keep.reduce((s, b) => s + b, 0);
  info.keep = keep;
  info.keepProbabilityMin = p.reduce((a, b) => Math.min(a, b), Infinity);
  info.keepProbabilityMax = p.reduce((a, b) => Math.max(a, b), -Infinity);
  let ratio: number | null = null;
  if (options.rescale) {
    const abs = Float32Array.from(delta, Math.abs);
    const sb = rw(torchSum(abs, W === "BF16"));
    const sa = rw(torchSum(abs.map((v, j) => (keep[j] ? v : 0)), W === "BF16"));
    const eps = rw(1e-7);
    if (!(sb < eps || sa < eps)) ratio = rw(sb / sa);
  }
  const arith = makeArith(options); // back to the compute dtype
  const trimmed = new Float32Array(n);
  for (let j = 0; j < n; j++) if (keep[j]) trimmed[j] = ratio === null ? delta[j]! : arith.keep(rw(delta[j]! * ratio));
  info.rescaleFactor = ratio;
  return { trimmed, info };
}

export interface DellaOptions extends TiesOptions {
  seed?: number; // default 0
  rescale?: boolean; // default true
}

export interface DellaTensorResult {
  merged: Float32Array;
  vectors: WeightedTaskVectors<DellaTrimInfo>;
  elected: Int8Array | null;
  stats: TiesTensorStats;
}

/** `election`: true = della (TIES' election; normalize default true), false = della_linear (default false). */
export function dellaTensor(input: TiesTensorInput<DellaModel>, options: DellaOptions, election: boolean, rng: MT19937): DellaTensorResult {
  const opts = { ...options, normalize: options.normalize ?? election };
  const trim = { dtype: options.dtype, mode: options.mode, rescale: options.rescale ?? true, tieOrder: options.tieOrder ?? "mergekit" };
  const vectors = weighTaskVectors(input, opts, (delta, m) => dellaTrim(delta, input.base.shape, m.density, m.epsilon ?? DEFAULT_EPSILON, rng, trim));
  const elected = election ? elect(vectors, opts).elected : null;
  const merged = disjointMerge(input.base.data, vectors, elected, opts);
  return { merged, vectors, elected, stats: tiesStats(vectors, elected) };
}

/** Tensor names in mergekit's execution order: Python string order (code points = UTF-8 bytes). */
export function executionOrder(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
}

/** A whole merge: one stream seeded with `seed`, tensors in execution order. */
export function dellaModel(tensors: ReadonlyMap<string, TiesTensorInput<DellaModel>>, options: DellaOptions, election: boolean): Map<string, DellaTensorResult> {
  const rng = new MT19937(options.seed ?? 0);
  const out = new Map<string, DellaTensorResult>();
  for (const name of executionOrder(tensors.keys())) {
    const input = tensors.get(name)!;
    out.set(name, dellaTensor({ ...input, isEmbed: input.isEmbed ?? isEmbedTensorName(name) }, options, election, rng));
  }
  return out;
}
