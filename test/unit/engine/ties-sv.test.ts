import { test } from "node:test";
import assert from "node:assert/strict";
import { f32Bits } from "@/server/engine/dtype";
import { tiesModel, tiesSvModel, type RefTensor, type TiesOptions, type TiesTensorInput } from "@/test/reference";
import { fillLaplace, fillNormal, Rng } from "@/server/engine/synthetic/prng";
import { loadCase, loadTensors } from "./golden-fixtures";

const F32_TIES: TiesOptions = { dtype: "F32", mode: "f32", consensus: "sum", normalize: true };

function vec(values: number[]): RefTensor {
  return { shape: [values.length], data: new Float32Array(values) };
}

/** Base all zeros, so model values are the task vectors; density 1 so nothing is trimmed. */
function sftAndCt(sft: number[], ct: number[]): TiesTensorInput {
  return {
    base: vec(sft.map(() => 0)),
    models: [
      { tensor: vec(sft), weight: 1, density: 1 },
      { tensor: vec(ct), weight: 1, density: 1 },
    ],
  };
}

// Hand-worked case. Model 0 = SFT (favored), model 1 = CT; weights 1, normalize.
//   a.weight  sft [ 0.5, -0.25, 1,  0.125]  ct [-1,   0.5,  1,   -0.25]
//             sum [-0.5,  0.25, 2, -0.125]  elected [-, +, +, -]
//             SFT loses at j0 (margin 0.5), j1 (0.25), j3 (0.125)
//             TIES: [-1, 0.5, (1+1)/2 = 1, -0.25]
//   b.weight  sft [ 2,   -0.125, 0.25, 0]    ct [-2.5, 0.25, 0.5, 1]
//             sum [-0.5,  0.125, 0.75, 1]    elected [-, +, +, +]
//             SFT loses at j0 (margin 0.5), j1 (0.125); j3 is 0 in SFT, not a candidate
//             TIES: [-2.5, 0.25, (0.25+0.5)/2 = 0.375, 1]
//   nnz(SFT) = 4 + 3 = 7; candidates ranked (margin, name, index):
//             a3 (0.125), b1 (0.125), a1 (0.25), a0 (0.5), b0 (0.5)
const HAND = new Map<string, TiesTensorInput>([
  ["a.weight", sftAndCt([0.5, -0.25, 1, 0.125], [-1, 0.5, 1, -0.25])],
  ["b.weight", sftAndCt([2, -0.125, 0.25, 0], [-2.5, 0.25, 0.5, 1])],
]);

function mergedOf(result: { tensors: Map<string, { merged: Float32Array }> }, name: string): number[] {
  return [...result.tensors.get(name)!.merged];
}

test("ties_sv hand case, model scope: R = floor(0.3 * 7) = 2 reserves a3 and b1 (margin tie -> name order)", () => {
  const r = tiesSvModel(HAND, { ...F32_TIES, favored: 0, slack: 0.3 });
  assert.deepEqual({ nnz: r.favoredNnz, candidates: r.candidates, budget: r.budget, reserved: r.reserved }, { nnz: 7, candidates: 5, budget: 2, reserved: 2 });
  // Reserved positions take the SFT sign, so only SFT contributes there: a3 = 0.125, b1 = -0.125.
  assert.deepEqual(mergedOf(r, "a.weight"), [-1, 0.5, 1, 0.125]);
  assert.deepEqual(mergedOf(r, "b.weight"), [-2.5, -0.125, 0.375, 1]);
  const a = r.tensors.get("a.weight")!.stats.models;
  const b = r.tensors.get("b.weight")!.stats.models;
  // SFT discarded: TIES a 3, b 2 -> a 2, b 1; CT now loses a3 and b1.
  assert.deepEqual([a[0]!.discarded, a[0]!.rescued, a[1]!.discarded, b[0]!.discarded, b[0]!.rescued, b[1]!.discarded], [2, 1, 1, 1, 1, 1]);
  assert.equal(a[0]!.discardedL1, 0.5 + 0.25); // a0 and a1 are still dropped
});

test("ties_sv hand case, tensor scope: a gets floor(0.3 * 4) = 1 (a3), b gets floor(0.3 * 3) = 0", () => {
  const r = tiesSvModel(HAND, { ...F32_TIES, favored: 0, slack: 0.3, scope: "tensor" });
  assert.deepEqual({ budget: r.budget, reserved: r.reserved }, { budget: 1, reserved: 1 });
  assert.deepEqual(mergedOf(r, "a.weight"), [-1, 0.5, 1, 0.125]);
  assert.deepEqual(mergedOf(r, "b.weight"), [-2.5, 0.25, 0.375, 1]); // = TIES
});

test("ties_sv hand case: budget grows with slack and is capped by the candidates", () => {
  // floor(0.6 * 7) = 4: a3, b1, a1, then a0 beats b0 at margin 0.5 by name.
  const r = tiesSvModel(HAND, { ...F32_TIES, favored: 0, slack: 0.6 });
  assert.deepEqual(mergedOf(r, "a.weight"), [0.5, -0.25, 1, 0.125]);
  assert.deepEqual(mergedOf(r, "b.weight"), [-2.5, -0.125, 0.375, 1]);
  const all = tiesSvModel(HAND, { ...F32_TIES, favored: 0, slack: 1 }); // floor(7) = 7 > 5 candidates
  assert.deepEqual({ budget: all.budget, reserved: all.reserved }, { budget: 7, reserved: 5 });
  assert.deepEqual(mergedOf(all, "b.weight"), [2, -0.125, 0.375, 1]);
});

test("ties_sv margin ties break by JS string order of names, then by flat index", () => {
  // Same margin (0.5) everywhere. "layers.10.w" < "layers.2.w" in code-unit order.
  const one = sftAndCt([1, 0, 1, 0, 0, 1], [-1.5, 0, -1.5, 0, 0, -1.5]); // candidates j0, j2, j5; nnz 3
  const tensors = new Map([
    ["layers.2.w", one],
    ["layers.10.w", one],
  ]);
  // Model scope: nnz 6, floor(0.2 * 6) = 1 -> layers.10.w index 0.
  const r = tiesSvModel(tensors, { ...F32_TIES, favored: 0, slack: 0.2 });
  assert.deepEqual([r.tensors.get("layers.10.w")!.reserved, r.tensors.get("layers.2.w")!.reserved], [1, 0]);
  assert.equal(r.tensors.get("layers.10.w")!.merged[0], 1);
  // floor(0.5 * 6) = 3 -> all of layers.10.w (indices 0, 2, 5) before any of layers.2.w.
  const r3 = tiesSvModel(tensors, { ...F32_TIES, favored: 0, slack: 0.5 });
  assert.deepEqual([r3.tensors.get("layers.10.w")!.reserved, r3.tensors.get("layers.2.w")!.reserved], [3, 0]);
  // Tensor scope, floor(0.4 * 3) = 1 per tensor: the lowest index, j0, in each.
  const rt = tiesSvModel(tensors, { ...F32_TIES, favored: 0, slack: 0.4, scope: "tensor" });
  for (const name of ["layers.2.w", "layers.10.w"]) assert.deepEqual([...rt.tensors.get(name)!.merged], [1, 0, -1.5, 0, 0, -1.5]);
});

test("ties_sv requires sum consensus and a sane slack", () => {
  assert.throws(() => tiesSvModel(HAND, { ...F32_TIES, consensus: "count", favored: 0, slack: 0.1 }), /sum/);
  assert.throws(() => tiesSvModel(HAND, { ...F32_TIES, favored: 0, slack: -0.1 }), /slack/);
  assert.throws(() => tiesSvModel(HAND, { ...F32_TIES, favored: 2, slack: 0.1 }), /favored/);
});

test("ties_sv with slack 0 is exactly TIES (golden bf16 case, both compute modes)", () => {
  const id = "ties_bf16_sum_norm_a0.2_b1.0";
  const c = loadCase(id);
  const base = loadTensors(id, c.base!)!;
  const models = c.models.map((m) => loadTensors(id, m.file)!);
  const inputs = new Map(
    [...base.keys()].map((name) => [
      name,
      { base: base.get(name)!, models: c.models.map((m, i) => ({ tensor: models[i]!.get(name)!, weight: m.weight, density: m.density! })) },
    ]),
  );
  for (const mode of ["f32", "native"] as const) {
    const options: TiesOptions = { dtype: "BF16", mode, consensus: "sum", normalize: true };
    const ties = tiesModel(inputs, options);
    const sv = tiesSvModel(inputs, { ...options, favored: 0, slack: 0 });
    assert.equal(sv.reserved, 0);
    for (const [name, t] of ties) {
      const s = sv.tensors.get(name)!;
      assert.deepEqual([...s.merged].map(f32Bits), [...t.merged].map(f32Bits), `${mode} ${name}`);
      assert.deepEqual(s.stats, t.stats);
    }
  }
});

test("ties_sv on random data: R = min(candidates, floor(slack * nnz)), smallest margins first, nothing else changes", () => {
  const rng = new Rng("ties-sv-property");
  const tensor = (n: number, fill: (x: Float32Array) => void) => {
    const data = new Float32Array(n);
    fill(data);
    return { shape: [n], data };
  };
  const inputs = new Map<string, TiesTensorInput>();
  for (const [name, n] of [["x.weight", 1000], ["y.weight", 777], ["z.weight", 10]] as const) {
    const base = tensor(n, (d) => fillNormal(rng, d, 0.02));
    const sft = tensor(n, (d) => fillLaplace(rng, d, 1e-3).forEach((v, i) => (d[i] = Math.fround(base.data[i]! + v))));
    const ct = tensor(n, (d) => fillNormal(rng, d, 2e-3).forEach((v, i) => (d[i] = Math.fround(base.data[i]! + v))));
    inputs.set(name, { base, models: [{ tensor: sft, weight: 1, density: 0.2 }, { tensor: ct, weight: 0.8, density: 1 }] });
  }
  const ties = tiesModel(inputs, F32_TIES);
  for (const scope of ["model", "tensor"] as const) {
    for (const slack of [0.01, 0.05, 0.3]) {
      const sv = tiesSvModel(inputs, { ...F32_TIES, favored: 0, slack, scope });
      const groups = scope === "model" ? [[...inputs.keys()]] : [...inputs.keys()].map((n) => [n]);
      for (const names of groups) {
        const nnz = names.reduce((s, n) => s + ties.get(n)!.stats.models[0]!.nnzTrimmed, 0);
        const candidates = names.reduce((s, n) => s + ties.get(n)!.stats.models[0]!.discarded, 0);
        const reserved = names.reduce((s, n) => s + sv.tensors.get(n)!.reserved, 0);
        assert.equal(reserved, Math.min(candidates, Math.floor(slack * nnz)), `${scope} ${slack} ${names.join()}`);
        let maxReservedMargin = -1;
        let minLeftMargin = Infinity;
        for (const n of names) {
          const t = ties.get(n)!;
          const s = sv.tensors.get(n)!;
          assert.equal(s.stats.models[0]!.discarded, t.stats.models[0]!.discarded - s.reserved);
          assert.equal(s.stats.models[0]!.rescued, s.reserved);
          for (let j = 0; j < t.merged.length; j++) {
            const flipped = s.elected[j] !== t.election.elected[j];
            if (!flipped) assert.equal(s.merged[j], t.merged[j]);
            const isCandidate = t.election.weighted[0]![j] !== 0 && Math.sign(t.election.weighted[0]![j]!) !== t.election.elected[j];
            if (!isCandidate) continue;
            const margin = Math.abs(t.election.score[j]!);
            if (flipped) maxReservedMargin = Math.max(maxReservedMargin, margin);
            else minLeftMargin = Math.min(minLeftMargin, margin);
          }
        }
        assert.ok(maxReservedMargin <= minLeftMargin, `${scope} ${slack}: reserved the smallest margins`);
      }
    }
  }
});
