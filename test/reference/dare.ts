// DARE (Yu et al. 2023; mergekit `dare_linear`, `dare_ties`): drop each task-vector entry at
// random with probability 1 - density, then rescale the survivors to the original L1 norm.
// Two generators (RandomStream): "counter" (default) -- the counter-based generator of
// docs/merge-methods.md, a draw depends only on (seed, tensor name, model index, flat index) --
// or "mergekit" -- torch's MT19937 stream as mergekit's --random-seed leaves it: one draw per
// element, models in recipe order, tensors in name order (mt19937.ts), sums in torch's order.
// dare_linear: no election; dare_ties: sign election as ties. normalize defaults to false.
import { roundTo } from "@/server/engine/dtype";
import { makeArith } from "./arith";
import type { RandomStream } from "@/server/engine/types";
import { executionOrder } from "./della";
import { isEmbedTensorName } from "./embed";
import { bernoulliKeeps, MT19937 } from "./mt19937";
import { torchSum } from "./torchSum";
import { tiledSum } from "./sum64";
import { disjointMerge, elect, weighTaskVectors, type TiesModel, type TiesOptions, type TiesTensorInput, type WeightedTaskVectors } from "./ties";
import { tiesStats, type TiesTensorStats } from "./tiesStats";
import type { TrimInfo } from "./trim";
import type { Precision } from "./types";

// ---------- the generator (all arithmetic modulo 2^64, in BigInt) ----------

const M64 = (1n << 64n) - 1n;
const G = 0x9e3779b97f4a7c15n;

/** SplitMix64's finalizer. */
export function mix64(z: bigint): bigint {
  z ^= z >> 30n;
  z = (z * 0xbf58476d1ce4e5b9n) & M64;
  z ^= z >> 27n;
  z = (z * 0x94d049bb133111ebn) & M64;
  z ^= z >> 31n;
  return z;
}

/** FNV-1a 64 of the UTF-8 bytes of `text`. */
export function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & M64;
  return h;
}

export interface DareRngKey {
  /** Integer in [0, 2^53). */
  seed: number;
  tensorName: string;
  /** Position of the model among the merged models (recipe order, base excluded). */
  modelIndex: number;
}

/** stream_i = mix64(seed ^ mix64(key + G * (i + 1))). */
export function dareStream({ seed, tensorName, modelIndex }: DareRngKey): bigint {
  if (!(Number.isSafeInteger(seed) && seed >= 0)) throw new Error(`dare: seed must be an integer in [0, 2^53), got ${seed}`);
  if (!(Number.isSafeInteger(modelIndex) && modelIndex >= 0)) throw new Error(`dare: bad model index ${modelIndex}`);
  const key = fnv1a64(tensorName);
  return mix64(BigInt(seed) ^ mix64((key + G * BigInt(modelIndex + 1)) & M64));
}

/** u_j = mix64(stream + G * (j + 1)) >> 11: 53 random bits for flat index j. */
export function dareDraw(stream: bigint, flatIndex: number): bigint {
  return mix64((stream + G * BigInt(flatIndex + 1)) & M64) >> 11n;
}

/** keep_j iff u_j < floor(density * 2^53) (exact: scaling by a power of two). */
export function dareKeepLimit(density: number): bigint {
  return BigInt(Math.floor(density * 2 ** 53));
}

/** Keep bits (1 = keep) for flat indices [start, end); any sub-range gives the same bits. density < 1. */
export function dareKeepMask(density: number, key: DareRngKey, start: number, end: number): Uint8Array {
  const stream = dareStream(key);
  const limit = dareKeepLimit(density);
  const out = new Uint8Array(end - start);
  for (let j = start; j < end; j++) out[j - start] = dareDraw(stream, j) < limit ? 1 : 0;
  return out;
}

// ---------- the sparsify step ----------

export interface DareTrimInfo extends TrimInfo {
  // k: kept positions (null when density >= 1); the threshold fields are always null.
  /** The L1 factor applied to kept entries (null: not rescaled). */
  rescaleFactor: number | null;
}

export interface RandomTrimOptions extends DareRngKey, Precision {
  rescale: boolean;
}

export function randomTrim(delta: Float32Array, density: number, options: RandomTrimOptions): { trimmed: Float32Array; info: DareTrimInfo } {
  const numel = delta.length;
  const info: DareTrimInfo = { density, numel, k: null, threshold: null, nGreaterThanThreshold: null, nEqualToThreshold: null, nKeptAtThreshold: null, rescaleFactor: null };
  if (density >= 1) return { trimmed: delta.slice(), info };

  const keep = dareKeepMask(density, options, 0, numel);
  info.k = keep.reduce((n, b) => n + b, 0);
  let ratio: number | null = null;
  if (options.rescale) {
    // W: the dtype the two norms (and their ratio) live in: BF16 for BF16 compute, else F32.
    const roundW = options.mode === "native" && options.dtype === "BF16" ? (x: number) => roundTo("BF16", Math.fround(x)) : Math.fround;
    const sb = roundW(tiledSum(numel, (j) => Math.abs(delta[j]!)));
    const sa = roundW(tiledSum(numel, (j) => (keep[j] ? Math.abs(delta[j]!) : 0)));
    if (!(sb < 1e-7 || sa < 1e-7)) ratio = roundW(Math.fround(sb / sa));
  }
  const arith = makeArith(options); // t = R(d * ratio) in the compute dtype
  const trimmed = new Float32Array(numel);
  for (let j = 0; j < numel; j++) if (keep[j]) trimmed[j] = ratio === null ? delta[j]! : arith.mul(delta[j]!, ratio);
  info.rescaleFactor = ratio;
  return { trimmed, info };
}

// ---------- the methods ----------

/** mergekit's bernoulli trim: keep iff the next draw u < float32(W(density)); rescale with torch's sums. */
export function streamTrim(delta: Float32Array, density: number, rng: MT19937, options: Precision & { rescale: boolean }): { trimmed: Float32Array; info: DareTrimInfo } {
  const numel = delta.length;
  const info: DareTrimInfo = { density, numel, k: null, threshold: null, nGreaterThanThreshold: null, nEqualToThreshold: null, nKeptAtThreshold: null, rescaleFactor: null };
  if (density >= 1) return { trimmed: delta.slice(), info };
  const bf16 = options.mode === "native" && options.dtype === "BF16";
  const rw = (x: number) => (bf16 ? roundTo("BF16", Math.fround(x)) : Math.fround(x));
  const p = rw(density);
  const keep = new Uint8Array(numel);
  for (let j = 0; j < numel; j++) keep[j] = bernoulliKeeps(rng.next(), p) ? 1 : 0;
  info.k = keep.reduce((n, b) => n + b, 0);
  let ratio: number | null = null;
  if (options.rescale) {
    const abs = Float32Array.from(delta, Math.abs);
    const sb = rw(torchSum(abs, bf16));
    const sa = rw(torchSum(abs.map((v, j) => (keep[j] ? v : 0)), bf16));
    if (!(sb < rw(1e-7) || sa < rw(1e-7))) ratio = rw(sb / sa);
  }
  const arith = makeArith(options);
  const trimmed = new Float32Array(numel);
  for (let j = 0; j < numel; j++) if (keep[j]) trimmed[j] = ratio === null ? delta[j]! : arith.mul(delta[j]!, ratio);
  info.rescaleFactor = ratio;
  return { trimmed, info };
}

export interface DareOptions extends TiesOptions {
  seed?: number; // default 0
  rescale?: boolean; // default true
  random?: RandomStream; // default "counter"
}

export interface DareTensorResult {
  merged: Float32Array;
  vectors: WeightedTaskVectors<DareTrimInfo>;
  /** Elected signs (dare_ties) or null (dare_linear: no election). */
  elected: Int8Array | null;
  stats: TiesTensorStats;
}

/**
 * `election`: false = dare_linear (every entry contributes), true = dare_ties. `stream`: the
 * merge's MT19937 when options.random is "mergekit" (dareModel passes it).
 */
export function dareTensor(
  tensorName: string,
  input: TiesTensorInput<TiesModel>,
  options: DareOptions,
  election: boolean,
  stream: MT19937 | null = null,
): DareTensorResult {
  const opts = { ...options, normalize: options.normalize ?? false };
  const rng = { seed: options.seed ?? 0, tensorName, rescale: options.rescale ?? true, dtype: options.dtype, mode: options.mode };
  const mk = options.random === "mergekit" ? (stream ?? new MT19937(rng.seed)) : null;
  const vectors = weighTaskVectors(input, opts, (delta, m, modelIndex) =>
    mk ? streamTrim(delta, m.density, mk, rng) : randomTrim(delta, m.density, { ...rng, modelIndex }),
  );
  const elected = election ? elect(vectors, opts).elected : null;
  const merged = disjointMerge(input.base.data, vectors, elected, opts);
  return { merged, vectors, elected, stats: tiesStats(vectors, elected) };
}

export function dareModel(tensors: ReadonlyMap<string, TiesTensorInput<TiesModel>>, options: DareOptions, election: boolean): Map<string, DareTensorResult> {
  const out = new Map<string, DareTensorResult>();
  const stream = options.random === "mergekit" ? new MT19937(options.seed ?? 0) : null; // one stream, tensors in name order
  for (const name of executionOrder(tensors.keys())) {
    const input = tensors.get(name)!;
    out.set(name, dareTensor(name, { ...input, isEmbed: input.isEmbed ?? isEmbedTensorName(name) }, options, election, stream));
  }
  return out;
}
