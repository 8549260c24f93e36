// mergekit `nuslerp`, `multislerp`, `karcher` (test/fixtures/golden/README.md "Method semantics"),
// written from the formulas. Two compute modes:
//   "native": mergekit's torch op sequence on 16-bit tensors: every op rounded to the storage
//             dtype (norms, cosines, angles included); sums over elements in float64, rounded once;
//   "f32":    the formulas evaluated in float64, rounded once to the output dtype (the engine's
//             float32 compute: the nearest deterministic value to torch's float32 result).
// Elementary functions of float32 values are float64 functions rounded to float32.
import { roundTo } from "@/server/engine/dtype";
import type { Precision, RefTensor } from "./types";

type Round = (x: number) => number;
const f = Math.fround;

function rounding(p: Precision): { native: boolean; R: Round } {
  // F32 storage without `dtype` is float32 compute too
  const native = p.mode === "native" && p.dtype !== "F32";
  return { native, R: native ? (x: number) => roundTo(p.dtype, x) : (x: number) => x };
}

function out(p: Precision, x: number): number {
  return roundTo(p.dtype, x);
}

// ------------------------------------------------------------------ nuslerp

export interface NuslerpOptions extends Precision {
  /** w_1, w_2 (recipe order). */
  weights: [number, number];
  flatten: boolean;
  rowWise: boolean;
}

export interface NuslerpResult {
  merged: Float32Array;
  t: number;
  /** vectors interpolated linearly (colinear) */
  lerpVectors: number;
}

/** out = [base +] nuslerp(t, a [- base], b [- base]) over the vectors the options select. */
export function nuslerp(base: RefTensor | null, a: RefTensor, b: RefTensor, opts: NuslerpOptions): NuslerpResult {
  const { native, R } = rounding(opts);
  const [w0, w1] = opts.weights;
  const t = Math.abs(w0 + w1) < 1e-6 ? 0.5 : w1 / (w0 + w1);
  const n = a.data.length;
  const shape = a.shape.length > 0 ? a.shape : [n];
  const delta = (x: number, j: number) => (native ? R(f(x - base!.data[j]!)) : x - base!.data[j]!);
  const v0 = Float64Array.from(a.data, (x, j) => (base ? delta(x, j) : x));
  const v1 = Float64Array.from(b.data, (x, j) => (base ? delta(x, j) : x));
  // vectors: element i of vector v at index(v, i)
  let V: number;
  let L: number;
  let index: (v: number, i: number) => number;
  if (opts.flatten) [V, L, index] = [1, n, (_v, i) => i];
  else if (opts.rowWise) {
    L = shape[0]!;
    V = n / L;
    const VV = V;
    index = (v, i) => i * VV + v;
  } else {
    L = shape[shape.length - 1]!;
    V = n / L;
    const LL = L;
    index = (v, i) => v * LL + i;
  }
  const merged = new Float32Array(n);
  let lerpVectors = 0;
  for (let v = 0; v < V; v++) {
    let s00 = 0;
    let s11 = 0;
    let s01 = 0;
    for (let i = 0; i < L; i++) {
      const e = index(v, i);
      s00 += v0[e]! * v0[e]!;
      s11 += v1[e]! * v1[e]!;
      s01 += v0[e]! * v1[e]!;
    }
    let c0: number;
    let c1: number;
    let div: number;
    let lerp: boolean;
    if (native) {
      const clampMin = R(f(1e-7));
      const n0 = Math.max(R(f(Math.sqrt(s00))), clampMin);
      const n1 = Math.max(R(f(Math.sqrt(s11))), clampMin);
      let dot = 0;
      for (let i = 0; i < L; i++) {
        const e = index(v, i);
        dot += R(f(R(f(v0[e]! / n0)) * R(f(v1[e]! / n1))));
      }
      const cos = Math.min(1, Math.max(-1, R(f(dot))));
      const th = R(f(Math.acos(cos)));
      const st = R(f(Math.sin(th)));
      lerp = Math.abs(st) < R(f(1e-8));
      [c0, c1, div] = lerp ? [f(1 - t), f(t), 1] : [R(f(Math.sin(R(f(f(1 - t) * th))))), R(f(Math.sin(R(f(f(t) * th))))), st];
    } else {
      const n0 = Math.max(Math.sqrt(s00), 1e-7);
      const n1 = Math.max(Math.sqrt(s11), 1e-7);
      const cos = Math.min(1, Math.max(-1, s01 / (n0 * n1)));
      const th = Math.acos(cos);
      const st = Math.sin(th);
      // colinear as torch decides it in float32, or where the float64 sine vanishes
      lerp = Math.abs(f(Math.sin(f(Math.acos(Math.min(1, Math.max(-1, f(cos)))))))) < f(1e-8) || Math.abs(st) < 1e-8;
      [c0, c1, div] = lerp ? [1 - t, t, 1] : [Math.sin((1 - t) * th), Math.sin(t * th), st];
    }
    if (lerp) lerpVectors++;
    for (let i = 0; i < L; i++) {
      const e = index(v, i);
      let res: number;
      if (native) {
        const sum = R(f(R(f(c0 * v0[e]!)) + R(f(c1 * v1[e]!))));
        res = lerp ? sum : R(f(sum / div));
        merged[e] = base ? R(f(base.data[e]! + res)) : res;
      } else {
        res = (c0 * v0[e]! + c1 * v1[e]!) / div;
        merged[e] = out(opts, base ? base.data[e]! + res : res);
      }
    }
  }
  return { merged, t, lerpVectors };
}

// ------------------------------------------------------------------ multislerp

export interface MultislerpOptions extends Precision {
  weights: number[];
  normalizeWeights: boolean;
  eps: number;
}

export function multislerp(base: RefTensor | null, models: RefTensor[], opts: MultislerpOptions): Float32Array {
  const { native, R } = rounding(opts);
  const N = models.length;
  const n = models[0]!.data.length;
  if (N === 1) return Float32Array.from(models[0]!.data);
  const T = models.map((m) => Float64Array.from(m.data, (x, j) => (base ? (native ? R(f(x - base.data[j]!)) : x - base.data[j]!) : x)));
  let w = opts.weights.map((x) => R(f(x)));
  if (opts.normalizeWeights) {
    let s = 0;
    for (const x of w) s = native ? f(s + x) : s + x;
    s = R(s);
    w = w.map((x) => R(native ? f(x / s) : x / s));
  }
  const sumsq = (x: ArrayLike<number>) => {
    let s = 0;
    for (let j = 0; j < x.length; j++) s += x[j]! * x[j]!;
    return s;
  };
  const eps = native ? R(f(opts.eps)) : opts.eps;
  const norms = T.map((x) => R(native ? f(Math.sqrt(sumsq(x))) : Math.sqrt(sumsq(x))));
  const dens = norms.map((nn) => R(native ? f(nn + eps) : nn + eps));
  const units = T.map((x, i) => Float64Array.from(x, (v) => R(native ? f(v / dens[i]!) : v / dens[i]!)));
  const mean = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < N; i++) s = native ? f(s + R(f(units[i]![j]! * w[i]!))) : s + units[i]![j]! * w[i]!;
    mean[j] = R(s);
  }
  const mn = R(native ? f(Math.sqrt(sumsq(mean))) : Math.sqrt(sumsq(mean)));
  const result = new Float32Array(n);
  if (mn < (native ? f(opts.eps) : opts.eps)) {
    if (N !== 2) throw new Error("multislerp: zero mean of the unit vectors");
    for (let j = 0; j < n; j++) {
      const r = native ? R(f(R(f(T[0]![j]! * w[0]!)) + R(f(T[1]![j]! * w[1]!)))) : T[0]![j]! * w[0]! + T[1]![j]! * w[1]!;
      result[j] = native ? (base ? R(f(r + base.data[j]!)) : r) : out(opts, base ? r + base.data[j]! : r);
    }
    return result;
  }
  const m = Float64Array.from(mean, (x) => R(native ? f(x / mn) : x / mn));
  const dots = units.map((u) => {
    let s = 0;
    for (let j = 0; j < n; j++) s += native ? R(f(u[j]! * m[j]!)) : u[j]! * m[j]!;
    return R(native ? f(s) : s);
  });
  const tr = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < N; i++) {
      s = native ? f(s + R(f(R(f(units[i]![j]! - R(f(dots[i]! * m[j]!)))) * w[i]!))) : s + (units[i]![j]! - dots[i]! * m[j]!) * w[i]!;
    }
    tr[j] = R(s);
  }
  const L = native ? R(f(R(f(Math.sqrt(sumsq(tr)))) + eps)) : Math.sqrt(sumsq(tr)) + eps;
  const cl = native ? R(f(Math.cos(L))) : Math.cos(L);
  const sl = native ? R(f(R(f(Math.sin(L))) / L)) : Math.sin(L) / L;
  let avg = 0;
  for (let i = 0; i < N; i++) avg = native ? f(avg + R(f(norms[i]! * w[i]!))) : avg + norms[i]! * w[i]!;
  avg = R(avg);
  for (let j = 0; j < n; j++) {
    if (native) {
      const r = R(f(R(f(R(f(m[j]! * cl)) + R(f(tr[j]! * sl)))) * avg));
      result[j] = base ? R(f(r + base.data[j]!)) : r;
    } else {
      const r = (m[j]! * cl + tr[j]! * sl) * avg;
      result[j] = out(opts, base ? r + base.data[j]! : r);
    }
  }
  return result;
}

// ------------------------------------------------------------------ karcher

export interface KarcherOptions extends Precision {
  maxIter: number;
  tol: number;
}

export interface KarcherResult {
  merged: Float32Array;
  iterations: number;
}

/** Karcher mean of the models and, when given, the base (mergekit gathers it as one more input). */
export function karcher(base: RefTensor | null, models: RefTensor[], opts: KarcherOptions): KarcherResult {
  const { native, R } = rounding(opts);
  const X = [...models, ...(base ? [base] : [])].map((t) => t.data);
  const N = X.length;
  const n = X[0]!.length;
  if (N === 1) return { merged: Float32Array.from(X[0]!), iterations: 0 };
  const sumsq = (x: ArrayLike<number>) => {
    let s = 0;
    for (let j = 0; j < x.length; j++) s += x[j]! * x[j]!;
    return s;
  };
  // torch.linalg.norm(t.float()).item(): float32 (F64 mode: exact)
  const fnorm = (x: ArrayLike<number>) => (native ? f(Math.sqrt(sumsq(x))) : Math.sqrt(sumsq(x)));
  const norms = X.map(fnorm);
  const alpha = 1 / N;
  const valid = norms.flatMap((nn, k) => (nn > opts.tol ? [k] : []));
  const merged = new Float32Array(n);
  if (valid.length === 0) return { merged, iterations: 0 };
  const na = valid.map(() => alpha / (alpha * valid.length));
  const units = valid.map((k) => Float64Array.from(X[k]!, (x) => R(native ? f(x / norms[k]!) : x / norms[k]!)));
  let u = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let v = 0; v < valid.length; v++) s = native ? R(f(s + R(f(f(na[v]!) * units[v]![j]!)))) : s + na[v]! * units[v]![j]!;
    u[j] = s;
  }
  const nu = fnorm(u);
  u = nu < opts.tol ? Float64Array.from(units[0]!) : Float64Array.from(u, (x) => R(native ? f(x / f(nu)) : x / nu));
  let iterations = 0;
  for (let it = 0; it < opts.maxIter; it++) {
    const T = new Float64Array(n);
    for (let v = 0; v < valid.length; v++) {
      let d = 0;
      for (let j = 0; j < n; j++) d += u[j]! * units[v]![j]!;
      const dot = Math.min(1, Math.max(-1, R(native ? f(d) : d)));
      const th = R(native ? f(Math.acos(dot)) : Math.acos(dot));
      if (th < opts.tol) continue;
      const coef = native ? R(f(f(na[v]!) * R(f(th / R(f(Math.sin(th))))))) : na[v]! * (th / Math.sin(th));
      for (let j = 0; j < n; j++) {
        T[j] = native ? R(f(T[j]! + R(f(coef * R(f(units[v]![j]! - R(f(dot * u[j]!)))))))) : T[j]! + coef * (units[v]![j]! - dot * u[j]!);
      }
    }
    const nT = fnorm(T);
    if (nT < opts.tol) break;
    iterations++;
    // mirror: cos/sin of the float32 norm, cast to the dtype as the first operand
    const c = native ? R(f(Math.cos(nT))) : Math.cos(nT);
    const s = native ? R(f(Math.sin(nT))) : Math.sin(nT);
    for (let j = 0; j < n; j++) u[j] = native ? R(f(R(f(c * u[j]!)) + R(f(s * R(f(T[j]! / nT)))))) : c * u[j]! + s * (T[j]! / nT);
    const un = fnorm(u);
    if (un > opts.tol) for (let j = 0; j < n; j++) u[j] = R(native ? f(u[j]! / un) : u[j]! / un);
  }
  let scale = 0;
  for (let k = 0; k < N; k++) scale += alpha * norms[k]!;
  for (let j = 0; j < n; j++) merged[j] = native ? R(f(f(scale) * u[j]!)) : out(opts, scale * u[j]!);
  return { merged, iterations };
}
