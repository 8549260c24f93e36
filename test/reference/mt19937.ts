// torch's CPU generator: the 32-bit Mersenne Twister (Matsumoto & Nishimura's mt19937ar),
// seeded like torch.manual_seed(S) = init_genrand(S & 0xffffffff). Plain transcription of the
// reference algorithm (one twist of the 624-word state per 624 outputs).

const N = 624;
const M = 397;

export class MT19937 {
  private readonly mt = new Uint32Array(N);
  private mti = N + 1;
  /** Outputs drawn since seeding. */
  drawn = 0;

  constructor(seed: number) {
    if (!(Number.isSafeInteger(seed) && seed >= 0)) throw new Error(`mt19937: seed must be an integer in [0, 2^53), got ${seed}`);
    const s = seed % 2 ** 32; // torch: seed & 0xffffffff
    this.mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.mt[i - 1]! ^ (this.mt[i - 1]! >>> 30);
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.mti = N;
  }

  next(): number {
    if (this.mti >= N) {
      for (let kk = 0; kk < N; kk++) {
        const y = (this.mt[kk]! & 0x80000000) | (this.mt[(kk + 1) % N]! & 0x7fffffff);
        this.mt[kk] = this.mt[(kk + M) % N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.mti = 0;
    }
    let y = this.mt[this.mti++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    this.drawn++;
    return y >>> 0;
  }
}

/** torch's float Bernoulli draw: u = (o & 0xFFFFFF) * 2^-24 (float32), kept iff u < p (p a float32). */
export function bernoulliKeeps(o: number, p: number): boolean {
  return Math.fround((o & 0xffffff) * 2 ** -24) < Math.fround(p);
}
