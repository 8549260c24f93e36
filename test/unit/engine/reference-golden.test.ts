// The reference merge implementations must reproduce every golden linear / task_arithmetic /
// ties case bit for bit (f32 mode vs expected.safetensors, native mode vs
// expected_native.safetensors) and report the same statistics. With mergekit's tie order
// (the default) that holds at every position, ambiguous_mask included, and the counts match
// exactly; with the index tie order the ambiguous positions are skipped and the counts may
// differ by n_ambiguous_positions (README "Tolerances").
import { test } from "node:test";
import assert from "node:assert/strict";
import type { TieOrder } from "@/server/engine/types";
import { linear, taskArithmetic, tiesStats, tiesTensor, type ComputeMode, type RefTensor, type TiesTensorStats } from "@/test/reference";
import { countBitDifferences, goldenCaseIds, hex, loadCase, loadMask, loadTensors, type GoldenCase, type GoldenTensorStats } from "./golden-fixtures";

const MODES: { mode: ComputeMode; file: string; statsKey: "stats" | "stats_native_compute" }[] = [
  { mode: "f32", file: "expected.safetensors", statsKey: "stats" },
  { mode: "native", file: "expected_native.safetensors", statsKey: "stats_native_compute" },
];

function checkTiesStats(
  where: string,
  c: GoldenCase,
  golden: GoldenTensorStats,
  full: TiesTensorStats,
  unambiguous: TiesTensorStats,
  tieOrder: TieOrder,
): void {
  const slack = tieOrder === "mergekit" ? 0 : golden.n_ambiguous_positions;
  const near = (actual: number, expected: number, what: string) =>
    assert.ok(Math.abs(actual - expected) <= slack, `${where} ${what}: ${actual} vs golden ${expected} (allowed ±${slack})`);
  assert.equal(full.numel, golden.numel, `${where} numel`);
  assert.equal(unambiguous.signConflicts, golden.sign_conflicts_unambiguous_positions, `${where} sign_conflicts (unambiguous)`);
  near(full.signConflicts, golden.sign_conflicts, "sign_conflicts");
  near(full.noContributor, golden.n_positions_no_contributor, "n_positions_no_contributor");
  near(full.majorityNegative, golden.n_majority_negative!, "n_majority_negative");
  c.models.forEach((m, i) => {
    const g = golden.models[m.role]!;
    const ours = full.models[i]!;
    const w = `${where} ${m.role}`;
    // Tie-independent: must match exactly.
    assert.equal(ours.k, g.k ?? null, `${w} k`);
    if (g.k != null) {
      assert.equal(hex(ours.threshold!), g.threshold_f32_hex, `${w} threshold`);
      assert.equal(ours.nGreaterThanThreshold, g.n_greater_than_threshold, `${w} n_greater_than_threshold`);
      assert.equal(ours.nEqualToThreshold, g.n_equal_to_threshold, `${w} n_equal_to_threshold`);
      assert.equal(ours.nKeptAtThreshold, g.n_kept_at_threshold, `${w} n_kept_at_threshold`);
    }
    assert.equal(ours.nnzTrimmed, g.nnz_trimmed, `${w} nnz_trimmed`);
    assert.equal(unambiguous.models[i]!.nnzTrimmed, g.nnz_trimmed_unambiguous_positions, `${w} nnz_trimmed (unambiguous)`);
    assert.equal(
      unambiguous.models[i]!.discarded,
      g.n_discarded_by_sign_election_unambiguous_positions,
      `${w} n_discarded_by_sign_election (unambiguous)`,
    );
    near(ours.discarded, g.n_discarded_by_sign_election, `${m.role} n_discarded_by_sign_election`);
    near(ours.contributing, g.n_contributing, `${m.role} n_contributing`);
  });
}

for (const id of goldenCaseIds(["linear", "task_arithmetic", "ties"]))
for (const tieOrder of ["mergekit", "index"] as const) {
  test(`golden ${id} (tie order ${tieOrder})`, () => {
    const c = loadCase(id);
    const base = c.base ? loadTensors(id, c.base)! : null;
    const models = c.models.map((m) => loadTensors(id, m.file)!);
    const masks = loadMask(id);
    let checkedFiles = 0;
    for (const { mode, file, statsKey } of MODES) {
      // F32 cases have no native file: rounding to F32 after every op is what f32 mode does anyway,
      // so native mode must reproduce expected.safetensors and `stats` there.
      const f32Storage = c.storage_dtype === "F32";
      const expected = loadTensors(id, f32Storage ? "expected.safetensors" : file);
      if (!expected) throw new Error(`${id}: ${file} missing`);
      checkedFiles++;
      for (const [name, meta] of Object.entries(c.tensors)) {
        const where = `${id} [${mode}] ${name}`;
        const precision = { dtype: c.storage_dtype, mode };
        const modelTensor = (i: number): RefTensor => models[i]!.get(name)!;
        const params = c.parameters_effective;
        const mask = tieOrder === "mergekit" ? undefined : masks?.get(name);
        let merged: Float32Array;
        if (c.method === "linear") {
          merged = linear(c.models.map((m, i) => ({ tensor: modelTensor(i), weight: m.weight })), { ...precision, normalize: params.normalize });
        } else if (c.method === "task_arithmetic") {
          merged = taskArithmetic(base!.get(name)!, c.models.map((m, i) => ({ tensor: modelTensor(i), weight: m.weight })), {
            ...precision,
            normalize: params.normalize,
            lambda: params.lambda,
            isEmbed: meta.is_embed,
          });
        } else {
          const result = tiesTensor(
            {
              base: base!.get(name)!,
              isEmbed: meta.is_embed,
              models: c.models.map((m, i) => ({ tensor: modelTensor(i), weight: m.weight, density: m.density! })),
            },
            { ...precision, consensus: c.consensus!, normalize: params.normalize, lambda: params.lambda, tieOrder },
          );
          merged = result.merged;
          const unambiguous = tiesStats(result.election, result.election.elected, { skip: masks?.get(name) });
          checkTiesStats(where, c, meta[f32Storage ? "stats" : statsKey]!, result.stats, unambiguous, tieOrder);
        }
        assert.equal(countBitDifferences(merged, expected.get(name)!.data, mask), 0, `${where}: values differ from the expected file`);
      }
    }
    assert.equal(checkedFiles, 2, `${id}: both compute modes checked`);
  });
}
