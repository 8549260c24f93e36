// The statistical model behind a synthetic family (all values per element, f32):
//
//   base    projections/embeddings ~ N(0, 0.02^2); norms ~ 1 + N(0, 0.02^2)
//   sft     base + s,  s ~ Laplace(sftScale): small, peaked at zero and heavy-tailed (a few
//           large entries carry most of the mass; bf16 storage rounds ~4% to exactly zero)
//   ct(T)   base + ctScale * (sqrt(T / referenceTokensB) * dir + ctNoise * n_T)
//           dir = -antiCorrelation * s/std(s) + sqrt(1 - antiCorrelation^2) * z   (fixed)
//           n_T ~ N(0, 1), independent per checkpoint
//
// The fixed direction grows like sqrt(tokens) while the noise does not, so later CT
// checkpoints are more aligned with `dir`, which leans against the SFT delta: sign
// conflicts with SFT, and the share of trimmed SFT entries the sign election discards,
// grow with tokens, as in the paper's Figures 3-4. The defaults below were calibrated
// (density 0.2 for SFT, 1.0 for CT, bf16) to about +4 points of discarded SFT share from
// the first (2B) to the sixth (12B) checkpoint.
import type { TensorKind } from "./llama";
import { fillLaplace, fillNormal, type Rng } from "./prng";

export interface SignalParams {
  baseStd: number;
  sftScale: number;
  ctScale: number;
  ctNoise: number;
  antiCorrelation: number;
  referenceTokensB: number;
  /** Norm weights sit near 1, where bf16 steps are ~0.008: deltas are scaled up so they survive. */
  normDeltaMultiplier: number;
}

export const DEFAULT_SIGNAL: SignalParams = {
  baseStd: 0.02,
  sftScale: 1e-3,
  ctScale: 5e-3,
  ctNoise: 2.5,
  antiCorrelation: 0.08,
  referenceTokensB: 2,
  normDeltaMultiplier: 4,
};

/** Per-tensor random streams; one chunk of every model is produced from one chunk of each. */
export interface TensorStreams {
  base: Rng;
  sft: Rng;
  direction: Rng;
  /** One per CT checkpoint, in checkpoint order. */
  ctNoise: Rng[];
}

export interface ChunkBuffers {
  base: Float32Array;
  sftDelta: Float32Array;
  direction: Float32Array;
  noise: Float32Array;
  model: Float32Array;
}

export function allocateChunk(length: number): ChunkBuffers {
  return {
    base: new Float32Array(length),
    sftDelta: new Float32Array(length),
    direction: new Float32Array(length),
    noise: new Float32Array(length),
    model: new Float32Array(length),
  };
}

/**
 * Produce the next `length` values of one tensor for every model and hand each to `emit`
 * (model 0 = base, 1 = sft, 2.. = CT checkpoints), reusing `buf.model` between calls.
 * Streams are consumed in pairs (Box-Muller), so chunk lengths must be even except the last.
 */
export function generateChunk(
  kind: TensorKind,
  streams: TensorStreams,
  tokensB: readonly number[],
  p: SignalParams,
  buf: ChunkBuffers,
  length: number,
  emit: (modelIndex: number, values: Float32Array) => void,
): void {
  const base = buf.base.subarray(0, length);
  const sft = buf.sftDelta.subarray(0, length);
  const dir = buf.direction.subarray(0, length);
  const noise = buf.noise.subarray(0, length);
  const model = buf.model.subarray(0, length);
  const deltaMultiplier = kind === "norm" ? p.normDeltaMultiplier : 1;
  const sftScale = p.sftScale * deltaMultiplier;

  fillNormal(streams.base, base, p.baseStd, kind === "norm" ? 1 : 0);
  emit(0, base);

  fillLaplace(streams.sft, sft, sftScale);
  for (let i = 0; i < length; i++) model[i] = base[i]! + sft[i]!;
  emit(1, model);

  fillNormal(streams.direction, dir);
  const along = -p.antiCorrelation / (sftScale * Math.SQRT2); // Laplace(b) has std b*sqrt(2)
  const across = Math.sqrt(1 - p.antiCorrelation ** 2);
  for (let i = 0; i < length; i++) dir[i] = along * sft[i]! + across * dir[i]!;

  const ctScale = p.ctScale * deltaMultiplier;
  tokensB.forEach((tokens, c) => {
    fillNormal(streams.ctNoise[c]!, noise);
    const growth = ctScale * Math.sqrt(tokens / p.referenceTokensB);
    const jitter = ctScale * p.ctNoise;
    for (let i = 0; i < length; i++) model[i] = base[i]! + growth * dir[i]! + jitter * noise[i]!;
    emit(2 + c, model);
  });
}
