// mergekit's tie order in the TypeScript reference: the golden tie_order cases (made by mergekit
// itself, byte-identical including which threshold ties survive) reproduced bit for bit by the
// reference's introsort port, with each trim's kept set equal to trim_mask.safetensors; plus
// the port's heap-sort fallback and insertion-sort leaves against hand-worked examples.
import assert from "node:assert/strict";
import { test } from "node:test";
import { breadcrumbsTensor, introsort, makeArith, tiesTensor } from "@/test/reference";
import { countBitDifferences, goldenCaseIds, hex, loadCase, loadMask, loadTensors } from "./golden-fixtures";

interface TieOrderModel {
  k?: number;
  threshold_f32_hex?: string;
  n_greater_than_threshold?: number;
  n_equal_to_threshold?: number;
  n_kept_at_threshold?: number;
  nnz_trimmed: number;
  kept_rank_range?: [number, number];
}

for (const id of goldenCaseIds(["ties", "breadcrumbs_ties"], ["tie_order"])) {
  test(`golden tie_order ${id}`, () => {
    const c = loadCase(id);
    const base = loadTensors(id, c.base!)!;
    const models = c.models.map((m) => loadTensors(id, m.file)!);
    const trimMasks = loadMask(id, "trim_mask.safetensors");
    const modes = [
      { mode: "native" as const, file: "expected_native.safetensors" },
      { mode: "f32" as const, file: c.float32_vs_native_identical && !loadTensors(id, "expected.safetensors") ? "expected_native.safetensors" : "expected.safetensors" },
    ];
    for (const { mode, file } of modes) {
      const expected = loadTensors(id, file)!;
      for (const name of Object.keys(c.tensors)) {
        const where = `${id} [${mode}] ${name}`;
        const precision = { dtype: c.storage_dtype, mode };
        const params = c.parameters_effective;
        const input = {
          base: base.get(name)!,
          models: c.models.map((m, i) => ({ tensor: models[i]!.get(name)!, weight: m.weight, density: m.density!, gamma: m.gamma })),
        };
        const options = { ...precision, consensus: c.consensus ?? undefined, normalize: params.normalize, lambda: params.lambda, tieOrder: "mergekit" as const };
        const r = c.method === "ties" ? tiesTensor(input, options) : breadcrumbsTensor(input, options, true);
        const vectors = "election" in r ? r.election : r.vectors;
        assert.equal(countBitDifferences(r.merged, expected.get(name)!.data, undefined), 0, `${where}: values differ from mergekit's`);
        const golden = (c.tensors[name] as unknown as { models: Record<string, TieOrderModel> }).models;
        const arith = makeArith(precision);
        c.models.forEach((m, i) => {
          const g = golden[m.role]!;
          const info = vectors.trims[i]!;
          assert.equal(r.stats.models[i]!.nnzTrimmed, g.nnz_trimmed, `${where} ${m.role} nnz_trimmed`);
          if (g.k !== undefined) {
            assert.equal(info.k, g.k, `${where} ${m.role} k`);
            assert.equal(hex(info.threshold!), g.threshold_f32_hex, `${where} ${m.role} threshold`);
            assert.deepEqual(
              [info.nGreaterThanThreshold, info.nEqualToThreshold, info.nKeptAtThreshold],
              [g.n_greater_than_threshold, g.n_equal_to_threshold, g.n_kept_at_threshold],
              `${where} ${m.role} threshold counts`,
            );
          }
          const kept = trimMasks?.get(`${m.role}/${name}`);
          if (!kept) return;
          // The trim's kept set: the trimmed vector's non-zeros, plus kept entries whose delta is 0
          // (they look dropped); compare where the delta is non-zero, count the rest.
          const delta = input.base.data.map((b, j) => arith.sub(input.models[i]!.tensor.data[j]!, b));
          let differ = 0;
          for (let j = 0; j < delta.length; j++) if (delta[j] !== 0 && (vectors.trimmed[i]![j] !== 0 ? 1 : 0) !== kept[j]) differ++;
          assert.equal(differ, 0, `${where} ${m.role}: kept set differs from trim_mask`);
        });
      }
    }
  });
}

test("introsort port: insertion-sort leaves are stable, the 17-element example keeps mergekit's ties", () => {
  // 17 equal keys but one: median of (1, 8, 16) is an equal key, swapped to the front; the
  // Hoare partition then swaps pairs (1,16), (2,15), ... (8,9), cutting at 9 (worked by hand in
  // native/tests/test_kernels.cc, ties_threshold_ties_mergekit_order_hand_checked).
  const keys = new Array<number>(17).fill(1);
  keys[16] = 3;
  const order = Array.from({ length: 17 }, (_, i) => i);
  introsort(order, (a, b) => keys[a]! > keys[b]!);
  assert.deepEqual(order.slice(0, 8), [16, 8, 15, 14, 13, 12, 11, 10]);
  const small = [3, 1, 2, 1, 3, 2];
  const idx = [0, 1, 2, 3, 4, 5];
  introsort(idx, (a, b) => small[a]! < small[b]!);
  assert.deepEqual(idx, [1, 3, 2, 5, 0, 4], "n <= 16: a stable insertion sort");
});

test("introsort port: the heap-sort fallback runs on a quicksort adversary and still sorts", () => {
  // McIlroy's adversary against this port's pivot rule: every partition splits off a couple of
  // elements, so 2 * floor(log2 n) levels run out and heap sort finishes the range.
  const n = 2000;
  const val = new Array<number>(n).fill(n - 1);
  let nsolid = 0;
  let candidate = 0;
  const ptr = Array.from({ length: n }, (_, i) => i);
  introsort(ptr, (x, y) => {
    if (val[x] === n - 1 && val[y] === n - 1) val[x === candidate ? x : y] = nsolid++;
    if (val[x] === n - 1) candidate = x;
    else if (val[y] === n - 1) candidate = y;
    return val[x]! < val[y]!;
  });
  const keys = val.map((v) => Math.floor(v / 3)); // with ties
  const order = Array.from({ length: n }, (_, i) => i);
  const stats = { heapSorts: 0 };
  introsort(order, (a, b) => keys[a]! < keys[b]!, stats);
  assert.ok(stats.heapSorts > 0, "the depth budget ran out: heap sort finished a range");
  for (let p = 1; p < n; p++) assert.ok(keys[order[p - 1]!]! <= keys[order[p]!]!, "sorted");
});
