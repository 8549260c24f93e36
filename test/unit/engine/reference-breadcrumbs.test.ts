// breadcrumbs / breadcrumbs_ties reference: the golden cases (values bit-exact outside the
// ambiguous mask, statistics per README "Tolerances", and the cut rule at ambiguous
// positions), plus mergekit's n_top == 0 edge case and `keepIfNoOutliers`.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  breadcrumbsTensor,
  makeArith,
  outlierTrim,
  tiesStats,
  type BreadcrumbsTensorResult,
  type ComputeMode,
  type Precision,
  type RefTensor,
} from "@/test/reference";
import type { TieOrder } from "@/server/engine/types";
import { countBitDifferences, goldenCaseIds, loadCase, loadMask, loadTensors, type GoldenCase, type GoldenTensorStats } from "./golden-fixtures";

test("outlierTrim removes the n_top largest and keeps the next `target` (index tie order: lowest flat index ranks higher)", () => {
  // numel 10, density 0.5 -> target 5; gamma 0.2 -> n_top 2; n_bot 3.
  const delta = new Float32Array([5, -5, 4, 1, -3, 2, 0.5, 3, 0.25, -5]);
  // Descending ranking: 5(0), -5(1), -5(9), 4(2), -3(4), 3(7), 2(5), 1(3), 0.5(6), 0.25(8).
  const { trimmed, info } = outlierTrim(delta, 0.5, 0.2, false, "index");
  assert.deepEqual([...trimmed], [0, 0, 4, 0, -3, 2, 0, 3, 0, -5]);
  assert.equal(info.k, 5);
  assert.equal(info.nTopRemoved, 2);
  assert.equal(info.topThreshold, 5);
  assert.equal(info.threshold, 2);
  assert.deepEqual([info.nGreaterThanThreshold, info.nEqualToThreshold, info.nKeptAtThreshold], [6, 1, 1]);
  assert.equal(info.droppedWhole, false);
});

test("outlierTrim, mergekit's tie order: the ascending sort's tail is removed (n <= 16: a stable insertion sort)", () => {
  // torch.sort ascending keeps equal keys in index order for n <= 16: 0.25(8), 0.5(6), 1(3),
  // 2(5), -3(4), 3(7), 4(2), 5(0), -5(1), -5(9); kept ranks [n_bot, n - n_top) = [3, 8):
  // 2, -3, 3, 4, 5(0) -- the removed outliers are -5 at 1 and 9, not 0 and 1.
  const delta = new Float32Array([5, -5, 4, 1, -3, 2, 0.5, 3, 0.25, -5]);
  const { trimmed, info } = outlierTrim(delta, 0.5, 0.2, false, "mergekit");
  assert.deepEqual([...trimmed], [5, 0, 4, 0, -3, 2, 0, 3, 0, 0]);
  assert.equal(info.topThreshold, 5);
  assert.deepEqual([info.threshold, info.nKeptAtThreshold], [2, 1]);
});

test("outlierTrim: n_bot < 0 removes fewer outliers; density >= 1 keeps everything", () => {
  // numel 10, density 0.95 -> target 9, gamma 0.2 -> n_top 2, n_bot = -1 -> n_top 1, n_bot 0.
  const delta = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const r = outlierTrim(delta, 0.95, 0.2, false);
  assert.deepEqual([...r.trimmed], [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
  assert.equal(r.info.nTopRemoved, 1);
  assert.equal(r.info.k, 9);
  const whole = outlierTrim(delta, 1, 0.2, false);
  assert.deepEqual([...whole.trimmed], [...delta]);
  assert.equal(whole.info.k, null);
  assert.equal(whole.info.nTopRemoved, 0);
});

test("mergekit edge case: numel < 1/gamma drops the whole task vector unless keepIfNoOutliers", () => {
  const numel = 64; // int(0.01 * 64) = 0 outliers
  const delta = new Float32Array(numel).map((_, j) => (j % 2 ? -1 : 1) * (j + 1) * 1e-3);
  const dropped = outlierTrim(delta, 0.9, 0.01, false);
  assert.ok(dropped.trimmed.every((v) => v === 0));
  assert.equal(dropped.info.k, 0);
  assert.equal(dropped.info.nTopRemoved, 0);
  assert.equal(dropped.info.droppedWhole, true);

  const kept = outlierTrim(delta, 0.9, 0.01, true);
  const target = Math.trunc(0.9 * numel); // 57: the largest |d| are the highest flat indices
  assert.equal(kept.info.k, target);
  assert.equal(kept.info.droppedWhole, false);
  for (let j = 0; j < numel; j++) assert.equal(kept.trimmed[j], j >= numel - target ? delta[j] : 0, `index ${j}`);

  // Through the whole method: the dropped tensor merges to the base.
  const base: RefTensor = { shape: [numel], data: new Float32Array(numel).fill(0.5) };
  const model: RefTensor = { shape: [numel], data: base.data.map((b, j) => Math.fround(b + delta[j]!)) };
  const input = { base, models: [{ tensor: model, weight: 1, density: 0.9, gamma: 0.01 }] };
  const precision: Precision = { dtype: "F32", mode: "f32" };
  assert.deepEqual([...breadcrumbsTensor(input, precision, false).merged], [...base.data]);
  const merged = breadcrumbsTensor(input, { ...precision, keepIfNoOutliers: true }, false).merged;
  assert.equal(merged.filter((v, j) => v !== base.data[j]).length, target);
});

test("breadcrumbs without election: weighted sum over all models, divisor = sum of weights when normalize", () => {
  const base: RefTensor = { shape: [4], data: new Float32Array([0, 0, 0, 0]) };
  const a: RefTensor = { shape: [4], data: new Float32Array([1, -2, 3, -4]) };
  const b: RefTensor = { shape: [4], data: new Float32Array([-1, 2, 3, 4]) };
  const models = [
    { tensor: a, weight: 1, density: 1 },
    { tensor: b, weight: 3, density: 1 },
  ];
  const precision: Precision = { dtype: "F32", mode: "f32" };
  const plain = breadcrumbsTensor({ base, models }, precision, false);
  assert.deepEqual([...plain.merged], [-2, 4, 12, 8]);
  assert.equal(plain.elected, null);
  assert.equal(plain.stats.majorityNegative, 0);
  assert.deepEqual(plain.stats.models.map((m) => [m.contributing, m.discarded]), [[4, 0], [4, 0]]);
  assert.deepEqual([...breadcrumbsTensor({ base, models }, { ...precision, normalize: true }, false).merged], [-0.5, 1, 3, 2]);
  // With election (sum): only the entries of the elected sign.
  const ties = breadcrumbsTensor({ base, models }, precision, true);
  assert.deepEqual([...ties.merged], [-3, 6, 12, 12]);
  // Weights summing to ~0 do not normalize (as task_arithmetic).
  const zero = breadcrumbsTensor({ base, models: [models[0]!, { ...models[1]!, weight: -1 }] }, { ...precision, normalize: true }, false);
  assert.deepEqual([...zero.merged], [2, -4, 0, -8]);
});

// ---------------------------------------------------------------- golden cases

const MODES: { mode: ComputeMode; file: string; statsKey: "stats" | "stats_native_compute" }[] = [
  { mode: "f32", file: "expected.safetensors", statsKey: "stats" },
  { mode: "native", file: "expected_native.safetensors", statsKey: "stats_native_compute" },
];

function checkStats(
  where: string,
  c: GoldenCase,
  golden: GoldenTensorStats,
  r: BreadcrumbsTensorResult,
  mask: Uint8Array | undefined,
  tieOrder: TieOrder,
): void {
  const full = r.stats;
  const unambiguous = tiesStats(r.vectors, r.elected, { skip: mask });
  const slack = tieOrder === "mergekit" ? 0 : golden.n_ambiguous_positions;
  const near = (actual: number, expected: number, what: string) =>
    assert.ok(Math.abs(actual - expected) <= slack, `${where} ${what}: ${actual} vs golden ${expected} (allowed ±${slack})`);
  assert.equal(full.numel, golden.numel);
  assert.equal(unambiguous.signConflicts, golden.sign_conflicts_unambiguous_positions, `${where} sign_conflicts (unambiguous)`);
  near(full.signConflicts, golden.sign_conflicts, "sign_conflicts");
  near(full.noContributor, golden.n_positions_no_contributor, "n_positions_no_contributor");
  if (golden.n_majority_negative !== undefined) near(full.majorityNegative, golden.n_majority_negative, "n_majority_negative");
  else assert.equal(r.elected, null, `${where}: golden has no election`);
  c.models.forEach((m, i) => {
    const g = golden.models[m.role]!;
    const ours = full.models[i]!;
    const info = r.vectors.trims[i]!;
    const w = `${where} ${m.role}`;
    const nBot = golden.numel - info.k! - info.nTopRemoved;
    assert.equal(info.nTopRemoved, g.n_top_removed, `${w} n_top_removed`);
    assert.equal(nBot, g.n_bot_removed, `${w} n_bot_removed`);
    assert.deepEqual([nBot, golden.numel - info.nTopRemoved], g.kept_rank_range, `${w} kept_rank_range`);
    assert.equal(info.threshold, Math.fround(g.lower_cut!.first_kept), `${w} lower_cut.first_kept = threshold`);
    assert.equal(info.topThreshold, Math.fround(g.upper_cut!.first_dropped), `${w} upper_cut.first_dropped = topThreshold`);
    assert.equal(ours.nnzTrimmed, g.nnz_trimmed, `${w} nnz_trimmed`);
    assert.equal(unambiguous.models[i]!.nnzTrimmed, g.nnz_trimmed_unambiguous_positions, `${w} nnz_trimmed (unambiguous)`);
    assert.equal(unambiguous.models[i]!.discarded, g.n_discarded_by_sign_election_unambiguous_positions, `${w} discarded (unambiguous)`);
    near(ours.discarded, g.n_discarded_by_sign_election, `${m.role} n_discarded_by_sign_election`);
    near(ours.contributing, g.n_contributing, `${m.role} n_contributing`);
  });
}

/**
 * The cut rule, which holds whatever the tie-break: entries strictly between the two cuts are
 * kept, entries outside dropped, and at each cut value exactly as many are kept as the counts allow.
 */
function checkCutRule(where: string, g: GoldenTensorStats["models"][string], delta: Float32Array, trimmed: Float32Array): void {
  const lo = Math.fround(g.lower_cut!.first_kept);
  const hi = Math.fround(g.upper_cut!.last_kept);
  const count = (pred: (m: number, j: number) => boolean) => delta.reduce((n, d, j) => n + (pred(Math.abs(d), j) ? 1 : 0), 0);
  for (let j = 0; j < delta.length; j++) {
    const m = Math.abs(delta[j]!);
    if (m < lo || m > hi) assert.equal(trimmed[j], 0, `${where}[${j}] outside the cuts is dropped`);
    else if (m > lo && m < hi) assert.equal(trimmed[j], delta[j], `${where}[${j}] between the cuts is kept`);
  }
  for (const v of new Set([lo, hi])) {
    if (v === 0) continue; // kept zeros are invisible
    let expected = count((m) => m === v);
    if (v === lo) expected -= g.n_bot_removed! - count((m) => m < v);
    if (v === hi) expected -= g.n_top_removed! - count((m) => m > v);
    assert.equal(count((m, j) => m === v && trimmed[j] !== 0), expected, `${where}: entries kept at |d| = ${v}`);
  }
}

for (const id of goldenCaseIds(["breadcrumbs", "breadcrumbs_ties"]))
for (const tieOrder of ["mergekit", "index"] as const) {
  test(`golden ${id} (tie order ${tieOrder})`, () => {
    const c = loadCase(id);
    const base = loadTensors(id, c.base!)!;
    const models = c.models.map((m) => loadTensors(id, m.file)!);
    const masks = loadMask(id);
    const f32Storage = c.storage_dtype === "F32";
    for (const { mode, file, statsKey } of MODES) {
      // F32 storage has no native file: native mode must reproduce expected.safetensors.
      const expected = loadTensors(id, f32Storage ? "expected.safetensors" : file)!;
      for (const [name, meta] of Object.entries(c.tensors)) {
        const where = `${id} [${mode}] ${name}`;
        const precision = { dtype: c.storage_dtype, mode };
        const params = c.parameters_effective;
        const mask = masks?.get(name);
        const input = {
          base: base.get(name)!,
          isEmbed: meta.is_embed,
          models: c.models.map((m, i) => ({ tensor: models[i]!.get(name)!, weight: m.weight, density: m.density!, gamma: m.gamma! })),
        };
        const r = breadcrumbsTensor(
          input,
          { ...precision, consensus: c.consensus ?? undefined, normalize: params.normalize, lambda: params.lambda, tieOrder },
          c.method === "breadcrumbs_ties",
        );
        const golden = meta[f32Storage ? "stats" : statsKey]!;
        checkStats(where, c, golden, r, mask, tieOrder);
        const arith = makeArith(precision);
        c.models.forEach((m, i) => {
          const delta = input.base.data.map((b, j) => arith.sub(input.models[i]!.tensor.data[j]!, b));
          checkCutRule(`${where} ${m.role}`, golden.models[m.role]!, delta, r.vectors.trimmed[i]!);
        });
        const skip = tieOrder === "mergekit" ? undefined : mask; // mergekit's order decides the ambiguous positions
        assert.equal(countBitDifferences(r.merged, expected.get(name)!.data, skip), 0, `${where}: values differ from the expected file`);
      }
    }
  });
}
