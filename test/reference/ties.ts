// TIES merging (Yadav et al. 2023, mergekit semantics), split into the halves that other
// methods reuse: weighTaskVectors (task vectors, a sparsify step, weight), electTies (+ sign
// election) and disjointMerge (average the entries that agree with the elected sign, or all
// entries when there is no election). breadcrumbs* and dare_* only swap the sparsify step.
import { DIVISOR_EPSILON, makeArith, type Arith } from "./arith";
import { alignToBase, isEmbedTensorName } from "./embed";
import { tiesStats, type TiesTensorStats } from "./tiesStats";
import { magnitudeTrim, type TrimInfo } from "./trim";
import type { TieOrder } from "@/server/engine/types";
import type { Consensus, Precision, RefTensor } from "./types";

export interface TiesModel {
  tensor: RefTensor;
  weight: number;
  density: number;
}

export interface TiesTensorInput<M extends TiesModel = TiesModel> {
  base: RefTensor;
  models: readonly M[];
  /** Embedding-like tensor whose extra rows in other models are cut off (see embed.ts). */
  isEmbed?: boolean;
}

export interface TiesOptions extends Precision {
  consensus?: Consensus; // default "sum"
  normalize?: boolean; // default true
  lambda?: number; // default 1
  tieOrder?: TieOrder; // default "mergekit": which threshold ties a magnitude cut keeps
}

/**
 * A sparsify step: task vector (already in the compute dtype) -> trimmed task vector.
 * `modelIndex` is the model's position in `models` (DARE seeds its mask with it).
 */
export type TrimStep<M extends TiesModel, I extends TrimInfo> = (
  delta: Float32Array,
  model: M,
  modelIndex: number,
  arith: Arith,
) => { trimmed: Float32Array; info: I };

export const magnitudeTrimStep =
  (tieOrder: TieOrder = "mergekit"): TrimStep<TiesModel, TrimInfo> =>
  (delta, m) =>
    magnitudeTrim(delta, m.density, tieOrder);

/** Sparsified, weighted task vectors of one tensor: everything before the sign election. */
export interface WeightedTaskVectors<I extends TrimInfo = TrimInfo> {
  numel: number;
  trims: I[];
  /** Trimmed task vectors before weighting (what "sign conflict" is defined on). */
  trimmed: Float32Array[];
  /** Weights as actually used (rounded to the storage dtype in native mode). */
  weights: number[];
  /** w_i * trimmed_i: what votes and what gets summed. */
  weighted: Float32Array[];
}

export interface TiesElection<I extends TrimInfo = TrimInfo> extends WeightedTaskVectors<I> {
  /** Per position: sum of weighted entries ("sum"; rounded in native mode) or #positive - #negative ("count"). */
  score: Float32Array;
  /** Per position: +1 or -1. */
  elected: Int8Array;
}

export function sign(x: number): -1 | 0 | 1 {
  return x > 0 ? 1 : x < 0 ? -1 : 0;
}

export function weighTaskVectors<M extends TiesModel, I extends TrimInfo>(
  input: TiesTensorInput<M>,
  options: Precision,
  trim: TrimStep<M, I>,
): WeightedTaskVectors<I> {
  const arith = makeArith(options);
  const base = input.base.data;
  const numel = base.length;
  const trims: I[] = [];
  const trimmed: Float32Array[] = [];
  const weights: number[] = [];
  const weighted: Float32Array[] = [];
  input.models.forEach((m, i) => {
    const x = alignToBase(m.tensor, input.base.shape, input.isEmbed ?? false, `model ${i}`);
    const delta = new Float32Array(numel);
    for (let j = 0; j < numel; j++) delta[j] = arith.sub(x[j]!, base[j]!);
    const t = trim(delta, m, i, arith);
    const w = arith.weightValue(m.weight);
    const wd = new Float32Array(numel);
    for (let j = 0; j < numel; j++) wd[j] = arith.mul(w, t.trimmed[j]!);
    trims.push(t.info);
    trimmed.push(t.trimmed);
    weights.push(w);
    weighted.push(wd);
  });
  return { numel, trims, trimmed, weights, weighted };
}

/** Sign election over the weighted task vectors. */
export function elect<I extends TrimInfo>(vectors: WeightedTaskVectors<I>, options: TiesOptions): TiesElection<I> {
  const arith = makeArith(options);
  const { numel, weighted } = vectors;
  const consensus = options.consensus ?? "sum";
  const score = new Float32Array(numel);
  const elected = new Int8Array(numel);
  for (let j = 0; j < numel; j++) {
    const column = weighted.map((wd) => wd[j]!);
    score[j] = consensus === "sum" ? arith.sum(column) : column.reduce((n, v) => n + sign(v), 0);
    // Ties (score exactly 0) go to +1, as in mergekit's `>= 0`.
    elected[j] = score[j]! >= 0 ? 1 : -1;
  }
  return { ...vectors, score, elected };
}

export function electTies(input: TiesTensorInput, options: TiesOptions): TiesElection {
  return elect(weighTaskVectors(input, options, magnitudeTrimStep(options.tieOrder)), options);
}

/**
 * Keep entries whose weighted sign equals `elected`, average (if normalize), scale, add to base.
 * `elected` null = no election (task_arithmetic style): every entry contributes and the divisor
 * is the sum of all weights (|sum| < 1e-8 becomes 1). `normalize` defaults to true (ties).
 */
export function disjointMerge(base: Float32Array, vectors: WeightedTaskVectors, elected: Int8Array | null, options: TiesOptions): Float32Array {
  const arith = makeArith(options);
  const normalize = options.normalize ?? true;
  const lambda = options.lambda ?? 1;
  let allWeights = arith.sum(vectors.weights);
  if (Math.abs(allWeights) < DIVISOR_EPSILON) allWeights = 1;
  const out = new Float32Array(vectors.numel);
  for (let j = 0; j < vectors.numel; j++) {
    const values: number[] = [];
    const weights: number[] = [];
    vectors.weighted.forEach((wd, i) => {
      if (elected === null || sign(wd[j]!) === elected[j]) {
        values.push(wd[j]!);
        weights.push(vectors.weights[i]!);
      }
    });
    let mixed = arith.sum(values);
    if (normalize) {
      const divisor = elected === null ? allWeights : arith.sum(weights);
      mixed = arith.div(mixed, divisor === 0 ? 1 : divisor);
    }
    if (lambda !== 1) mixed = arith.mul(mixed, arith.scalar(lambda));
    out[j] = arith.output(arith.add(base[j]!, mixed));
  }
  return out;
}

export interface TiesTensorResult {
  merged: Float32Array;
  election: TiesElection;
  stats: TiesTensorStats;
}

export function tiesTensor(input: TiesTensorInput, options: TiesOptions): TiesTensorResult {
  const election = electTies(input, options);
  const merged = disjointMerge(input.base.data, election, election.elected, options);
  return { merged, election, stats: tiesStats(election, election.elected) };
}

/** TIES over a whole model; `isEmbed` defaults to the tensor name (embed_tokens, lm_head, ...). */
export function tiesModel(tensors: ReadonlyMap<string, TiesTensorInput>, options: TiesOptions): Map<string, TiesTensorResult> {
  const out = new Map<string, TiesTensorResult>();
  for (const [name, input] of tensors) out.set(name, tiesTensor({ ...input, isEmbed: input.isEmbed ?? isEmbedTensorName(name) }, options));
  return out;
}
