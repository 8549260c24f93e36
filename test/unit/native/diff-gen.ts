// Random merge cases for the native-vs-reference differential test (differential.test.ts).
// Everything is drawn from a seeded PRNG (server/engine/synthetic/prng.ts), so a case is
// fully determined by its id: a failing case can be regenerated with makeCase(id, ...).
//
// Values are generated already rounded to the storage dtype, so writing them to
// safetensors and reading them back is exact.
import { roundTo, type FloatDType } from "@/server/engine/dtype";
import type { ComputeMode } from "@/test/reference";
import { fillLaplace, fillNormal, Rng } from "@/server/engine/synthetic/prng";
import type { Consensus, MergeMethod, RandomStream, SlackScope, StorageDtype, TieOrder } from "@/server/engine/types";

export interface DiffTensor {
  name: string;
  shape: number[];
  /** How the values were drawn (for failure messages). */
  kind: ValueKind;
  base: Float32Array;
  models: Float32Array[];
}

export interface DiffCase {
  id: string;
  method: MergeMethod;
  consensus: Consensus;
  dtype: StorageDtype;
  /** "native" = request.computeDtype "storage"; "f32" = computeDtype "F32" + outDtype = dtype. */
  mode: ComputeMode;
  normalize: boolean;
  lambda: number;
  slack: number;
  scope: SlackScope;
  /** ties_sv: index of the favored model. */
  favored: number;
  weights: number[];
  densities: number[];
  /** breadcrumbs*: per model. */
  gammas: number[];
  keepIfNoOutliers: boolean;
  /** dare_*. */
  seed: number;
  rescale: boolean;
  /** slerp. */
  t: number;
  /** model_stock. */
  filterWise: boolean;
  /** Threshold ties of magnitude cuts (ties, ties_sv, breadcrumbs*, della*'s ranks). */
  tieOrder: TieOrder;
  /** dare_*: the generator (della* always "mergekit"). */
  randomStream: RandomStream;
  /** della*: per model, inside (0, min(density, 1 - density)). */
  epsilons: number[];
  tensors: DiffTensor[];
}

export type ValueKind = "gauss" | "laplace" | "quant" | "sparse" | "zeros" | "tiny" | "signedZero" | "logScale";
export const VALUE_KINDS: readonly ValueKind[] = ["gauss", "laplace", "quant", "sparse", "zeros", "tiny", "signedZero", "logScale"];

/**
 * Tensor names. They put the tie-breaking of ties_sv's model-scope ranking (code point order)
 * to work: "layers.10" < "layers.2", upper case < lower case, "." < "_" , a prefix first, and
 * one pair that JS's default (UTF-16) sort puts the other way round: "x\uFFFD" < "x\u{1F600}".
 */
export const NAME_POOL: readonly string[] = [
  "layers.10.mlp.down_proj.weight",
  "layers.2.mlp.down_proj.weight",
  "layers.2.mlp.down_proj.bias",
  "layers.2.mlp",
  "layers.1.self_attn.q_proj.weight",
  "Layers.0.w",
  "a",
  "a.b",
  "a_b",
  "a-b",
  "b",
  "model.norm.weight",
  "z\u00e9ta.weight", // é (2 UTF-8 bytes)
  "\u03bb.weight", // λ
  "x\uFFFD.w", // U+FFFD (3 UTF-8 bytes)
  "x\u{1F600}.w", // U+1F600 (4 UTF-8 bytes, a surrogate pair in UTF-16)
];

/** DELLA ranks rows of 1-D / 2-D tensors with at least 2 elements (mergekit divides by max - min rank). */
const DELLA_SHAPES: readonly number[][] = [[2], [7], [64], [100], [257], [1000], [1025], [2500], [3, 5], [33, 31], [48, 64], [0], [0, 4], [2, 2]];

/** Shapes of small tensors: 1-element and empty ones included on purpose. */
const SHAPES: readonly number[][] = [
  [1],
  [1, 1],
  [0],
  [0, 4],
  [2],
  [7],
  [64],
  [100],
  [257],
  [1000],
  [1024],
  [1025],
  [2500],
  [3, 5],
  [33, 31],
  [48, 64],
  [2, 3, 4],
];

export const WEIGHTS: readonly number[] = [1, 1, 0.5, 2, 0.3, 0.7, 1.5, -0.5, -1, -0.3, 0.25, 0.1, -2, 0.8];
export const DENSITIES: readonly number[] = [0.01, 0.2, 0.5, 1.0];
/** ties_sv slack: 0 (must be TIES), small values where the budget binds, 1 (usually all candidates). */
export const SLACKS: readonly number[] = [0, 0.01, 0.05, 0.1, 0.2, 0.3, 1];
const LAMBDAS: readonly number[] = [1, 1, 0.5, 1.3, 2.5];

export class Draw {
  constructor(readonly rng: Rng) {}
  float(): number {
    return this.rng.nextFloat();
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng.nextFloat() * (hi - lo + 1));
  }
  bool(p = 0.5): boolean {
    return this.rng.nextFloat() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rng.nextFloat() * xs.length)]!;
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.rng.nextFloat() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Base and model values of one tensor, every value representable in `dtype`. */
export function genValues(d: Draw, kind: ValueKind, numel: number, nModels: number, dtype: FloatDType): { base: Float32Array; models: Float32Array[] } {
  const r = (x: number) => roundTo(dtype, x);
  const base = new Float32Array(numel);
  const models = Array.from({ length: nModels }, () => new Float32Array(numel));
  const normal = (std: number) => fillNormal(d.rng, new Float32Array(numel), std);
  const QUANT = [0, 0, 0, 0.125, -0.125, 0.25, -0.25, 0.5, -0.5, 1, -1];
  switch (kind) {
    case "gauss":
    case "laplace":
    case "sparse": {
      base.set(normal(0.05).map(r));
      // A shared component makes the models' signs correlated (fewer conflicts) half the time.
      const shared = d.bool() ? normal(d.pick([1e-3, 1e-2])) : new Float32Array(numel);
      const zeroProb = kind === "sparse" ? d.pick([0.8, 0.95, 0.99]) : 0;
      models.forEach((m) => {
        const scale = d.pick([1e-3, 1e-2, 0.1]);
        const delta = kind === "laplace" ? fillLaplace(d.rng, new Float32Array(numel), scale) : normal(scale);
        for (let j = 0; j < numel; j++) m[j] = d.float() < zeroProb ? base[j]! : r(base[j]! + shared[j]! + delta[j]!);
      });
      break;
    }
    case "quant": {
      // Values on a 1/8 grid: exact in every dtype, so |delta| and election margins tie a lot.
      for (let j = 0; j < numel; j++) base[j] = d.int(-8, 8) / 8;
      models.forEach((m) => {
        for (let j = 0; j < numel; j++) m[j] = base[j]! + d.pick(QUANT);
      });
      break;
    }
    case "zeros": {
      // Every model equals the base except maybe one (task vectors identically 0).
      base.set(normal(0.05).map(r));
      const live = d.bool() ? d.int(0, nModels - 1) : -1;
      models.forEach((m, i) => {
        const delta = normal(0.01);
        for (let j = 0; j < numel; j++) m[j] = i === live ? r(base[j]! + delta[j]!) : base[j]!;
      });
      break;
    }
    case "tiny": {
      // F16 subnormal territory (< 2^-14 = 6.1e-5): native F16 rounding of tiny deltas.
      for (let j = 0; j < numel; j++) base[j] = r(d.pick([0, 0, 3e-5, -3e-5, 1e-6]));
      models.forEach((m) => {
        const delta = normal(d.pick([1e-7, 1e-6, 2e-5]));
        for (let j = 0; j < numel; j++) m[j] = r(base[j]! + delta[j]!);
      });
      break;
    }
    case "signedZero": {
      // +0 / -0 in base and models: -0 - +0 = -0 deltas, which are zeros for every count.
      for (let j = 0; j < numel; j++) base[j] = d.pick([0, -0, 0, 0.25, -0.5]);
      models.forEach((m) => {
        for (let j = 0; j < numel; j++) {
          const b = base[j]!;
          m[j] = b === 0 ? d.pick([0, -0, -0, 0.125, -0.125]) : b + d.pick([0, 0.125, -0.25]);
        }
      });
      break;
    }
    case "logScale": {
      // Magnitudes spread over ~26 binades: every radix bin level gets used.
      base.set(normal(0.05).map(r));
      models.forEach((m) => {
        for (let j = 0; j < numel; j++) {
          const mag = 2 ** (-24 + 26 * d.float());
          m[j] = r(base[j]! + (d.bool() ? mag : -mag));
        }
      });
      break;
    }
  }
  return { base, models };
}

export interface CaseOptions {
  method: MergeMethod;
  consensus?: Consensus;
  scope?: SlackScope;
  /** Add one tensor of more than one 64Ki-element chunk (exercises cross-chunk tie budgets). */
  big?: boolean;
  /** Force the storage dtype / compute mode (drawn anyway, so the rest of the case does not shift). */
  dtype?: StorageDtype;
  mode?: ComputeMode;
  /** Force the tie order / DARE's generator (drawn anyway). */
  tieOrder?: TieOrder;
  randomStream?: RandomStream;
}

/** Weight value as the compute dtype sees it (f32 first, like both engines). */
function weightIn(dtype: FloatDType, w: number): number {
  return roundTo(dtype, Math.fround(w));
}

export function makeCase(id: string, opts: CaseOptions): DiffCase {
  const d = new Draw(new Rng(id));
  const method = opts.method;
  const drawnDtype = d.pick<StorageDtype>(["F32", "F16", "BF16"]);
  const drawnMode = d.pick<ComputeMode>(["native", "f32"]);
  const dtype = opts.dtype ?? drawnDtype;
  const mode = opts.mode ?? drawnMode;
  const drawnModels = d.pick([2, 3]);
  const nModels = method === "slerp" ? 1 : drawnModels;
  const computeDtype: FloatDType = mode === "native" ? dtype : "F32";
  const normalize = d.bool();
  let weights: number[];
  for (;;) {
    weights = Array.from({ length: nModels }, () => (d.bool(0.8) ? d.pick(WEIGHTS) : Math.round((d.float() * 4 - 2) * 1000) / 1000));
    // linear + normalize with weights summing to 0 is rejected by the engine (not a
    // differential question). The engine checks the sum in F32 as well as in the compute
    // dtype (see the KNOWN_LINEAR_F32_CHECK test), so avoid a zero sum in either.
    const sumIn = (dt: FloatDType) => roundTo(dt, weights.reduce((s, w) => Math.fround(s + weightIn(dt, w)), 0));
    if (method === "linear" && normalize && (sumIn(computeDtype) === 0 || sumIn("F32") === 0)) continue;
    if (weights.some((w) => weightIn(computeDtype, w) === 0 && method === "ties_sv")) continue;
    break;
  }
  const densities = Array.from({ length: nModels }, () => (d.bool(0.9) ? d.pick(DENSITIES) : d.pick([0, 0.29, 1.5])));
  // Drawn for every method (so adding a method does not shift the other draws of a case).
  const gammas = Array.from({ length: nModels }, () => d.pick([0, 0.01, 0.05, 0.2, 0.6]));
  const keepIfNoOutliers = d.bool();
  const seed = d.int(0, 1_000_000);
  const rescale = d.bool(0.8);
  const t = d.pick([0, 0.3, 0.5, 0.77, 1]);
  const filterWise = d.bool();
  const nTensors = d.int(2, 6);
  const names = d.shuffle(NAME_POOL).slice(0, nTensors);
  const tensors: DiffTensor[] = names.map((name) => {
    const shape = method === "della" || method === "della_linear" ? d.pick(DELLA_SHAPES) : d.pick(SHAPES);
    // ties_sv: half the tensors quantized, so equal margins meet at the budget's cutoff,
    // often in several tensors (the name / flat index tie-break decides).
    const kind = method === "ties_sv" && d.bool() ? "quant" : d.pick(VALUE_KINDS);
    return { name, shape, kind, ...genValues(d, kind, numelOf(shape), nModels, dtype) };
  });
  if (opts.big) {
    const shape = d.pick([[70000], [300, 512], [140001]]);
    const kind = d.pick<ValueKind>(["quant", "gauss", "sparse", "signedZero"]);
    tensors.push({ name: "big.weight", shape, kind, ...genValues(d, kind, numelOf(shape), nModels, dtype) });
  }
  // Drawn after everything else, so cases made before these settings existed keep their draws.
  const tieOrder = opts.tieOrder ?? d.pick<TieOrder>(["mergekit", "mergekit", "index"]);
  const drawnStream = d.pick<RandomStream>(["counter", "mergekit"]);
  const randomStream = method === "della" || method === "della_linear" ? "mergekit" : (opts.randomStream ?? drawnStream);
  const epsilons = densities.map((dens) => {
    const e = d.pick([0.15, 0.05, 0.01, 0.3]);
    const room = Math.min(dens, 1 - dens); // della needs density -+ epsilon inside (0, 1)
    return dens > 0 && dens < 1 && e >= room ? room / 2 : e;
  });
  return {
    id,
    method,
    consensus: opts.consensus ?? "sum",
    dtype,
    mode,
    normalize,
    lambda: d.pick(LAMBDAS),
    slack: d.pick(SLACKS),
    scope: opts.scope ?? "model",
    favored: d.int(0, nModels - 1),
    weights,
    densities,
    gammas,
    keepIfNoOutliers,
    seed,
    rescale,
    t,
    filterWise,
    tieOrder,
    randomStream,
    epsilons,
    tensors,
  };
}
