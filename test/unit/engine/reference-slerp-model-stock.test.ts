// slerp and model_stock reference vs the golden cases, plus small hand-checked cases.
import { test } from "node:test";
import assert from "node:assert/strict";
import { f32Bits, f32ToBf16Bits, f32ToF16Bits, roundTo, type FloatDType } from "@/server/engine/dtype";
import { modelStock, slerp, type ComputeMode, type RefTensor } from "@/test/reference";
import { goldenCaseIds, loadCase, loadTensors } from "./golden-fixtures";

/** Distance in units in the last place of `dtype` (values must be representable in it). */
function ulpDistance(a: number, b: number, dtype: FloatDType): number {
  const bits = dtype === "F32" ? f32Bits : dtype === "BF16" ? f32ToBf16Bits : f32ToF16Bits;
  const width = dtype === "F32" ? 32 : 16;
  const signBit = 2 ** (width - 1);
  // Map sign-magnitude bit patterns onto a monotonic integer line.
  const ordered = (x: number) => {
    const u = bits(x) >>> 0;
    return u >= signBit ? signBit - u : u;
  };
  return Math.abs(ordered(a) - ordered(b));
}

function maxUlp(actual: Float32Array, expected: Float32Array, dtype: FloatDType): number {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  for (let j = 0; j < actual.length; j++) worst = Math.max(worst, ulpDistance(actual[j]!, expected[j]!, dtype));
  return worst;
}

const MODES: { mode: ComputeMode; file: string }[] = [
  { mode: "f32", file: "expected.safetensors" },
  { mode: "native", file: "expected_native.safetensors" },
];

// Observed max ULP differences (storage dtype) against the golden files:
//   slerp_bf16_t0.3          expected / expected_native: 0 ULP (bit-exact) on both tensors
//   model_stock_f32_3models  expected:                   0 ULP (bit-exact) on both tensors, in f32 and native mode
// Tolerance: README "Tolerances" (16-bit outputs <= 1 ULP; F32 outputs <= 4 ULP).
const TOLERANCE_ULP: Record<FloatDType, number> = { F32: 4, F16: 1, BF16: 1 };

for (const id of goldenCaseIds(["slerp", "model_stock"])) {
  test(`golden ${id}`, (t) => {
    const c = loadCase(id);
    const base = loadTensors(id, c.base!)!;
    const models = c.models.map((m) => loadTensors(id, m.file)!);
    for (const { mode, file } of MODES) {
      // F32 storage has no native file: native mode is f32 mode there.
      const expected = loadTensors(id, c.storage_dtype === "F32" ? "expected.safetensors" : file)!;
      for (const [name, meta] of Object.entries(c.tensors)) {
        const precision = { dtype: c.storage_dtype, mode };
        const merged =
          c.method === "slerp"
            ? slerp(base.get(name)!, models[0]!.get(name)!, { dtype: c.storage_dtype, t: c.parameters_effective.t!, isEmbed: meta.is_embed }).merged
            : modelStock(base.get(name)!, models.map((m) => m.get(name)!), { ...precision, filterWise: c.parameters_effective.filter_wise, isEmbed: meta.is_embed }).merged;
        const ulp = maxUlp(merged, expected.get(name)!.data, c.storage_dtype);
        t.diagnostic(`${id} [${mode}] ${name}: max ${ulp} ULP`);
        assert.ok(ulp <= TOLERANCE_ULP[c.storage_dtype], `${id} [${mode}] ${name}: ${ulp} ULP`);
      }
    }
  });
}

const vec = (...xs: number[]): RefTensor => ({ shape: [xs.length], data: new Float32Array(xs) });

test("slerp: orthogonal vectors follow the great circle; (anti)parallel ones fall back to lerp", () => {
  const r = slerp(vec(1, 0), vec(0, 1), { dtype: "F32", t: 0.5 });
  assert.equal(r.lerp, false);
  assert.ok(Math.abs(r.c0 - Math.SQRT1_2) < 1e-15 && Math.abs(r.c1 - Math.SQRT1_2) < 1e-15);
  assert.deepEqual([...r.merged], [Math.fround(Math.SQRT1_2), Math.fround(Math.SQRT1_2)]);
  // Norms do not enter the coefficients except through the angle.
  const scaled = slerp(vec(2, 0), vec(0, 3), { dtype: "F32", t: 0.25 });
  assert.ok(Math.abs(scaled.c0 - Math.sin(Math.PI / 2 * 0.75)) < 1e-15 && Math.abs(scaled.c1 - Math.sin(Math.PI / 2 * 0.25)) < 1e-15);
  const parallel = slerp(vec(1, 2, 3), vec(2, 4, 6), { dtype: "F32", t: 0.3 });
  assert.equal(parallel.lerp, true);
  assert.deepEqual([parallel.c0, parallel.c1], [0.7, 0.3]);
  const f = Math.fround;
  assert.deepEqual([...parallel.merged], [1, 2, 3].map((x) => f(f(f(0.7) * x) + f(f(0.3) * 2 * x))));
  // A zero base is not normalized (norm <= 1e-8 -> 1): dot 0, plain slerp coefficients.
  assert.equal(slerp(vec(0, 0), vec(1, 1), { dtype: "F32", t: 0.5 }).lerp, false);
});

test("slerp rounds once to the storage dtype", () => {
  const v0 = vec(1, 0.1, -0.3);
  const v1 = vec(0.2, 1, 0.7);
  const inF32 = slerp(v0, v1, { dtype: "F32", t: 0.3 }).merged;
  assert.deepEqual(slerp(v0, v1, { dtype: "BF16", t: 0.3 }).merged, inF32.map((x) => roundTo("BF16", x)));
});

test("model_stock: t from the pairwise cosine (orthogonal -> base, identical -> average)", () => {
  const base = vec(1, 1, 1, 1);
  const p = { dtype: "F32", mode: "f32" } as const;
  const orth = modelStock(base, [vec(2, 1, 1, 1), vec(1, 2, 1, 1)], p);
  assert.deepEqual(orth.t, [0]);
  assert.deepEqual([...orth.merged], [1, 1, 1, 1]);
  const same = modelStock(base, [vec(2, 0, 1, 1), vec(2, 0, 1, 1), vec(2, 0, 1, 1)], p);
  assert.deepEqual(same.t, [1]);
  assert.deepEqual([...same.merged], [2, 0, 1, 1]);
  // cos = 0.5 with N = 2: t = 2 * 0.5 / (1 + 0.5) = 2/3.
  const half = modelStock(vec(0, 0), [vec(1, 0), vec(1, Math.sqrt(3))], p);
  assert.ok(Math.abs(half.t[0]! - 2 / 3) < 1e-6, `t ${half.t[0]}`);
  assert.throws(() => modelStock(base, [vec(1, 1, 1, 1)], p), /at least 2/);
});

test("model_stock filterWise: each row along the last dimension is merged like its own tensor", () => {
  const rows = 5;
  const cols = 7;
  const rand = (k: number) => new Float32Array(rows * cols).map((_, j) => Math.fround(Math.sin(j * 12.9898 + k * 78.233) * 0.5));
  const base: RefTensor = { shape: [rows, cols], data: rand(0) };
  const models: RefTensor[] = [1, 2, 3].map((k) => ({ shape: [rows, cols], data: rand(k).map((x, j) => Math.fround(base.data[j]! + x * 0.1)) }));
  for (const mode of ["f32", "native"] as const) {
    const p = { dtype: "BF16" as const, mode };
    const fw = modelStock(base, models, { ...p, filterWise: true });
    assert.equal(fw.t.length, rows);
    for (let r = 0; r < rows; r++) {
      const row = (t: RefTensor): RefTensor => ({ shape: [cols], data: t.data.slice(r * cols, (r + 1) * cols) });
      const single = modelStock(row(base), models.map(row), p);
      assert.deepEqual(fw.t[r], single.t[0]);
      assert.deepEqual(fw.merged.slice(r * cols, (r + 1) * cols), single.merged);
    }
    assert.equal(fw.interpolationT, fw.t.reduce((a, b) => a + b, 0) / rows);
    // Outputs are BF16 values; native mode keeps t in BF16 too.
    for (const v of fw.merged) assert.equal(f32Bits(v) & 0xffff, 0);
    if (mode === "native") for (const t of fw.t) assert.equal(f32Bits(t) & 0xffff, 0);
  }
});
