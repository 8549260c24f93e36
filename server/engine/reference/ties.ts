// TIES merging (Yadav et al. 2023, mergekit semantics), split into the two halves that
// TIES-SV needs to get between: electTies (task vectors, trim, weight, sign election)
// and disjointMerge (average the entries that agree with the elected sign).
import { makeArith } from "./arith";
import { alignToBase, isEmbedTensorName } from "./embed";
import { tiesStats, type TiesTensorStats } from "./tiesStats";
import { magnitudeTrim, type TrimInfo } from "./trim";
import type { Consensus, Precision, RefTensor } from "./types";

export interface TiesModel {
  tensor: RefTensor;
  weight: number;
  density: number;
}

export interface TiesTensorInput {
  base: RefTensor;
  models: readonly TiesModel[];
  /** Embedding-like tensor whose extra rows in other models are cut off (see embed.ts). */
  isEmbed?: boolean;
}

export interface TiesOptions extends Precision {
  consensus?: Consensus; // default "sum"
  normalize?: boolean; // default true
  lambda?: number; // default 1
}

export interface TiesElection {
  numel: number;
  trims: TrimInfo[];
  /** Trimmed task vectors before weighting (what "sign conflict" is defined on). */
  trimmed: Float32Array[];
  /** Weights as actually used (rounded to the storage dtype in native mode). */
  weights: number[];
  /** w_i * trimmed_i: what votes and what gets summed. */
  weighted: Float32Array[];
  /** Per position: sum of weighted entries ("sum"; rounded in native mode) or #positive - #negative ("count"). */
  score: Float32Array;
  /** Per position: +1 or -1. */
  elected: Int8Array;
}

export function sign(x: number): -1 | 0 | 1 {
  return x > 0 ? 1 : x < 0 ? -1 : 0;
}

export function electTies(input: TiesTensorInput, options: TiesOptions): TiesElection {
  const arith = makeArith(options);
  const base = input.base.data;
  const numel = base.length;
  const trims: TrimInfo[] = [];
  const trimmed: Float32Array[] = [];
  const weights: number[] = [];
  const weighted: Float32Array[] = [];
  input.models.forEach((m, i) => {
    const x = alignToBase(m.tensor, input.base.shape, input.isEmbed ?? false, `ties model ${i}`);
    const delta = new Float32Array(numel);
    for (let j = 0; j < numel; j++) delta[j] = arith.sub(x[j]!, base[j]!);
    const trim = magnitudeTrim(delta, m.density);
    const w = arith.weightValue(m.weight);
    const wd = new Float32Array(numel);
    for (let j = 0; j < numel; j++) wd[j] = arith.mul(w, trim.trimmed[j]!);
    trims.push(trim.info);
    trimmed.push(trim.trimmed);
    weights.push(w);
    weighted.push(wd);
  });

  const consensus = options.consensus ?? "sum";
  const score = new Float32Array(numel);
  const elected = new Int8Array(numel);
  for (let j = 0; j < numel; j++) {
    const column = weighted.map((wd) => wd[j]!);
    score[j] = consensus === "sum" ? arith.sum(column) : column.reduce((n, v) => n + sign(v), 0);
    // Ties (score exactly 0) go to +1, as in mergekit's `>= 0`.
    elected[j] = score[j]! >= 0 ? 1 : -1;
  }
  return { numel, trims, trimmed, weights, weighted, score, elected };
}

/** Keep entries whose weighted sign equals `elected`, average (if normalize), scale, add to base. */
export function disjointMerge(base: Float32Array, election: TiesElection, elected: Int8Array, options: TiesOptions): Float32Array {
  const arith = makeArith(options);
  const normalize = options.normalize ?? true;
  const lambda = options.lambda ?? 1;
  const out = new Float32Array(election.numel);
  for (let j = 0; j < election.numel; j++) {
    const values: number[] = [];
    const weights: number[] = [];
    election.weighted.forEach((wd, i) => {
      if (sign(wd[j]!) === elected[j]) {
        values.push(wd[j]!);
        weights.push(election.weights[i]!);
      }
    });
    let mixed = arith.sum(values);
    if (normalize) {
      const divisor = arith.sum(weights);
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
