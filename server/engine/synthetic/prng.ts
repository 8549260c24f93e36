// Deterministic random numbers for synthetic checkpoints: xoshiro128** seeded through
// splitmix32 from a string key. Every (seed, tensor, component) pair gets its own named
// stream, so values do not depend on generation order or chunk sizes, and adding a
// tensor or checkpoint never shifts the numbers of the others.

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(key: string) {
    const a = splitmix32(fnv1a(key));
    const b = splitmix32(fnv1a(`${key}\u0000second-half`));
    this.s0 = a();
    this.s1 = a();
    this.s2 = b();
    this.s3 = b() | 1; // the all-zero state is the one state xoshiro never leaves
  }

  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() * 2 ** -32;
  }
}

/** Fill `out` with N(mean, std^2) samples (Box-Muller, both outputs used). */
export function fillNormal(rng: Rng, out: Float32Array, std = 1, mean = 0): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = 1 - rng.nextFloat(); // (0, 1]: log(0) would be -Infinity
    const u2 = rng.nextFloat();
    const r = std * Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    out[i] = mean + r * Math.cos(theta);
    if (i + 1 < out.length) out[i + 1] = mean + r * Math.sin(theta);
  }
  return out;
}

/** Fill `out` with Laplace(0, scale) samples (heavy-tailed: many tiny, a few large). */
export function fillLaplace(rng: Rng, out: Float32Array, scale: number): Float32Array {
  for (let i = 0; i < out.length; i++) {
    const u = rng.nextFloat() - 0.5; // [-0.5, 0.5)
    const magnitude = -scale * Math.log(1 - 2 * Math.abs(u) || Number.MIN_VALUE);
    out[i] = u < 0 ? -magnitude : magnitude;
  }
  return out;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function splitmix32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state ^ (state >>> 16);
    z = Math.imul(z, 0x21f0aaad);
    z ^= z >>> 15;
    z = Math.imul(z, 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
}
