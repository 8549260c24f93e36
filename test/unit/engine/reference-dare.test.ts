// dare_linear / dare_ties reference. DARE's mask is random, so (unlike the other methods) it
// cannot be checked bit for bit against mergekit; we pin our own generator with reference
// draws (test/fixtures/dare-rng-vectors.json, computed by dare-rng-vectors.py with Python
// integers, shared with the C++ tests) and check the statistics DARE promises.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { roundTo, type FloatDType } from "@/server/engine/dtype";
import {
  dareDraw,
  dareKeepMask,
  dareStream,
  dareTensor,
  makeArith,
  randomTrim,
  taskArithmetic,
  tiesTensor,
  type ComputeMode,
  type DareRngKey,
  type RefTensor,
} from "@/test/reference";

interface RngVector {
  seed: number;
  tensorName: string;
  modelIndex: number;
  flatIndex: number;
  u53: string;
  keepAtDensity0_5: boolean;
}

const VECTORS = (JSON.parse(readFileSync(path.join(process.cwd(), "test/fixtures/dare-rng-vectors.json"), "utf8")) as { vectors: RngVector[] }).vectors;

test("generator reproduces the reference draws (dare-rng-vectors.json)", () => {
  assert.ok(VECTORS.length >= 10);
  for (const v of VECTORS) {
    const key: DareRngKey = { seed: v.seed, tensorName: v.tensorName, modelIndex: v.modelIndex };
    const where = JSON.stringify(key) + ` j=${v.flatIndex}`;
    assert.equal(dareDraw(dareStream(key), v.flatIndex), BigInt(v.u53), where);
    assert.equal(dareKeepMask(0.5, key, v.flatIndex, v.flatIndex + 1)[0], v.keepAtDensity0_5 ? 1 : 0, where);
  }
});

test("seed must be an integer in [0, 2^53)", () => {
  for (const seed of [-1, 0.5, 2 ** 53, NaN]) assert.throws(() => dareStream({ seed, tensorName: "w", modelIndex: 0 }), /seed/);
});

// ---------------------------------------------------------------- deterministic test data

/** mulberry32: a small seeded PRNG for test data (not the DARE generator). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Task-vector-like values (mostly small, some large), exactly representable in `dtype`. */
function randomValues(n: number, seed: number, dtype: FloatDType, scale = 0.01): Float32Array {
  const rand = prng(seed);
  return new Float32Array(n).map(() => roundTo(dtype, (rand() - 0.5) * scale * (rand() < 0.05 ? 20 : 1)));
}

const N = 200_000;
const KEY = { seed: 42, tensorName: "layers.3.mlp.up_proj.weight", modelIndex: 1 };
const DENSITIES = [0.1, 0.5, 0.9];

const count = (xs: Uint8Array) => xs.reduce((n, b) => n + b, 0);
/** |x - mean| <= 5 sigma of a binomial(n, p). */
function withinBinomial(x: number, n: number, p: number, what: string): void {
  const sigma = Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(x - n * p) <= 5 * sigma, `${what}: ${x} vs expected ${n * p} ± ${5 * sigma}`);
}

// ---------------------------------------------------------------- the mask

test("kept fraction is within 5 sigma of density", () => {
  for (const density of DENSITIES) withinBinomial(count(dareKeepMask(density, KEY, 0, N)), N, density, `density ${density}`);
});

test("the mask is a function of (seed, name, model index, flat index) only", () => {
  for (const density of DENSITIES) {
    const mask = dareKeepMask(density, KEY, 0, N);
    assert.deepEqual(dareKeepMask(density, { ...KEY }, 0, N), mask, "same key, same mask");
    // Any chunking of the flat index range gives the same bits.
    const cuts = [0, 1, 1000, 65535, 65536, 131072, 150001, N];
    const pieces = cuts.slice(1).map((end, c) => dareKeepMask(density, KEY, cuts[c]!, end));
    assert.deepEqual(Uint8Array.from(pieces.flatMap((p) => [...p])), mask, "chunked");
    // Changing any part of the key gives an independent mask: overlap ~ density^2.
    for (const other of [
      { ...KEY, seed: 43 },
      { ...KEY, tensorName: "layers.3.mlp.down_proj.weight" },
      { ...KEY, modelIndex: 0 },
    ]) {
      const m2 = dareKeepMask(density, other, 0, N);
      assert.notDeepEqual(m2, mask, JSON.stringify(other));
      const both = mask.reduce((n, b, j) => n + (b & m2[j]!), 0);
      withinBinomial(both, N, density * density, `overlap with ${JSON.stringify(other)} at density ${density}`);
    }
  }
});

test("density >= 1: no mask, no rescale", () => {
  const delta = randomValues(1000, 1, "F32");
  const r = randomTrim(delta, 1, { ...KEY, rescale: true, dtype: "F32", mode: "f32" });
  assert.deepEqual(r.trimmed, delta);
  assert.deepEqual([r.info.k, r.info.rescaleFactor], [null, null]);
});

// ---------------------------------------------------------------- rescale

// Relative L1 error bounds: sb, sa, ratio and every t are each rounded once to their dtype.
const L1_CASES: { dtype: FloatDType; mode: ComputeMode; relTol: number }[] = [
  { dtype: "F32", mode: "f32", relTol: 1e-6 },
  { dtype: "BF16", mode: "f32", relTol: 1e-6 }, // bf16 inputs, f32 compute
  { dtype: "BF16", mode: "native", relTol: 4 * 2 ** -9 }, // sb, sa, ratio in BF16, t rounded to BF16
  { dtype: "F16", mode: "native", relTol: 2 ** -11 + 1e-6 }, // ratio in F32, t rounded to F16
];

test("rescale preserves the L1 norm; kept entries are R(d * ratio), dropped ones 0", () => {
  for (const { dtype, mode, relTol } of L1_CASES) {
    const arith = makeArith({ dtype, mode });
    const delta = randomValues(N, 7, dtype);
    const l1 = (xs: Float32Array) => xs.reduce((s, v) => s + Math.abs(v), 0);
    for (const density of DENSITIES) {
      const where = `${dtype}/${mode} density ${density}`;
      const mask = dareKeepMask(density, KEY, 0, N);
      const { trimmed, info } = randomTrim(delta, density, { ...KEY, rescale: true, dtype, mode });
      assert.equal(info.k, count(mask), `${where} k`);
      const ratio = info.rescaleFactor!;
      assert.ok(Math.abs(ratio - l1(delta) / mask.reduce((s, b, j) => s + b * Math.abs(delta[j]!), 0)) <= relTol * ratio, `${where} ratio`);
      assert.equal(roundTo(mode === "native" && dtype === "BF16" ? "BF16" : "F32", ratio), ratio, `${where}: ratio lives in W`);
      for (let j = 0; j < N; j++) {
        if (trimmed[j] !== (mask[j] ? arith.mul(delta[j]!, ratio) : 0)) assert.fail(`${where} [${j}]: ${trimmed[j]} (delta ${delta[j]}, kept ${mask[j]})`);
      }
      const rel = Math.abs(l1(trimmed) - l1(delta)) / l1(delta);
      assert.ok(rel <= relTol, `${where}: L1 relative error ${rel} > ${relTol}`);
    }
  }
});

test("rescale off, or a norm below 1e-7: kept entries unchanged", () => {
  const delta = randomValues(10_000, 3, "F32");
  const mask = dareKeepMask(0.5, KEY, 0, delta.length);
  const off = randomTrim(delta, 0.5, { ...KEY, rescale: false, dtype: "F32", mode: "f32" });
  assert.equal(off.info.rescaleFactor, null);
  assert.deepEqual([...off.trimmed], [...delta].map((d, j) => (mask[j] ? d : 0)));
  const tiny = delta.map((d) => d * 1e-12); // L1 ~ 2.5e-11
  const r = randomTrim(tiny, 0.5, { ...KEY, rescale: true, dtype: "F32", mode: "f32" });
  assert.equal(r.info.rescaleFactor, null);
  assert.deepEqual([...r.trimmed], [...tiny].map((d, j) => (mask[j] ? d : 0)));
});

// ---------------------------------------------------------------- the methods

function dareInputs(n: number, nModels: number, dtype: FloatDType, zeroBase: boolean) {
  const base: RefTensor = { shape: [n], data: zeroBase ? new Float32Array(n) : randomValues(n, 99, dtype, 1) };
  const models = Array.from({ length: nModels }, (_, i) => {
    const delta = randomValues(n, 100 + i, dtype);
    return { shape: [n], data: base.data.map((b, j) => roundTo(dtype, b + delta[j]!)) };
  }).map((tensor, i) => ({
    tensor,
    weight: [1, 0.7, -0.4][i]!,
    density: [0.3, 0.6, 0.9][i]!,
  }));
  return { base, models };
}

test("dare_ties elects like ties on the DARE-trimmed task vectors; dare_linear sums like task_arithmetic", () => {
  // A zero base makes the task vectors the models themselves, so the trimmed vectors can be fed
  // to ties / task_arithmetic as models (density 1 = no further trimming).
  for (const { dtype, mode } of [
    { dtype: "F32", mode: "f32" },
    { dtype: "BF16", mode: "native" },
  ] as const) {
    const input = dareInputs(20_000, 3, dtype, true);
    for (const normalize of [false, true]) {
      const options = { dtype, mode, seed: 5, normalize };
      const where = `${dtype}/${mode} normalize ${normalize}`;
      const dt = dareTensor("w", input, options, true);
      const asModels = dt.vectors.trimmed.map((t, i) => ({ tensor: { shape: [t.length], data: t }, weight: input.models[i]!.weight, density: 1 }));
      const ties = tiesTensor({ base: input.base, models: asModels }, { dtype, mode, consensus: "sum", normalize });
      assert.deepEqual(dt.elected, ties.election.elected, `${where}: elected signs`);
      assert.deepEqual(dt.merged, ties.merged, `${where}: merged`);
      const withoutK = (st: typeof dt.stats) => ({ ...st, models: st.models.map((m) => ({ ...m, k: null })) }); // ties here: density 1, k null
      assert.deepEqual(withoutK(dt.stats), withoutK(ties.stats), `${where}: statistics`);

      const dl = dareTensor("w", input, options, false);
      assert.deepEqual(dl.vectors.trimmed, dt.vectors.trimmed, "same masks with and without election");
      assert.equal(dl.elected, null);
      assert.deepEqual(dl.merged, taskArithmetic(input.base, asModels, { dtype, mode, normalize }), `${where}: dare_linear`);
    }
  }
});

test("dare: masks depend on the tensor name and model position; normalize/rescale defaults", () => {
  const input = dareInputs(50_000, 2, "F32", false);
  const a = dareTensor("layers.0.w", input, { dtype: "F32", mode: "f32" }, false);
  const b = dareTensor("layers.1.w", input, { dtype: "F32", mode: "f32" }, false);
  assert.notDeepEqual(a.vectors.trimmed[0], b.vectors.trimmed[0]);
  a.vectors.trims.forEach((t, i) => {
    assert.ok(t.rescaleFactor !== null && t.rescaleFactor > 1, "rescale defaults to true");
    withinBinomial(t.k!, 50_000, input.models[i]!.density, `model ${i} kept`);
  });
  // normalize defaults to false: out = base + sum_i w_i t_i.
  const f = Math.fround;
  for (let j = 0; j < 50_000; j++) {
    const mixed = f(f(0 + f(1 * a.vectors.trimmed[0]![j]!)) + f(f(0.7) * a.vectors.trimmed[1]![j]!));
    if (a.merged[j] !== f(input.base.data[j]! + mixed)) assert.fail(`[${j}]`);
  }
  // Swapping the models swaps the streams: each model index keeps its own mask.
  const swapped = dareTensor("layers.0.w", { ...input, models: [input.models[1]!, input.models[0]!] }, { dtype: "F32", mode: "f32" }, false);
  assert.notDeepEqual(swapped.vectors.trimmed[1], a.vectors.trimmed[0]);
});
