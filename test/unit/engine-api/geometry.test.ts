// Task-vector geometry in `mergescope analyze --json` and the Node API (analyze, analyzeSweep):
// every tensor's sums of squares, dot, sign agreement and mask overlap against the TypeScript
// reference (test/reference/geometry.ts) computed from the safetensors of a tiny synthetic
// family, and on the golden tie-order case against its golden trim masks.
// Tolerances: sums and counts are exact (the reference sums in the engine's documented order,
// so equal float64 sums are bit-identical); the ratios (norm, cosine, shares, Jaccard) and the
// layer/module/total sums are within 1e-12 relative of the reference's.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, writeFileSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import { analyze, analyzeSweep } from "@/server/engine/merge";
import { parseRecipeYaml } from "@/server/engine/recipe";
import type { StatsReport } from "@/server/engine/stats";
import { pointReport } from "@/server/jobs/types/analyze-sweep";
import { keptMask } from "@/test/reference";
import { readSafetensors } from "@/test/support/safetensors/read";
import { assertReportGeometry, loadModel } from "./geometry-check";
import { tinyFamily } from "../jobs/helpers";
import { caseDir, nativeMergeSkipReason, tempDir } from "./helpers";

const skip = nativeMergeSkipReason();

function cli(...args: string[]) {
  return spawnSync(process.execPath, ["bin/mergescope.mjs", ...args], { encoding: "utf8", timeout: 120_000 });
}

function recipe(densities: [number, number], extra = ""): string {
  return [
    "merge_method: ties",
    "base_model: ./base",
    "models:",
    `  - model: ./sft\n    parameters: {weight: 1.0, density: ${densities[0]}}`,
    `  - model: ./ct-2B\n    parameters: {weight: 0.5, density: ${densities[1]}}`,
    extra,
  ].join("\n");
}

describe("task-vector geometry", { skip }, () => {
  let family: string;
  let base: Map<string, Float32Array>;
  let models: Map<string, Float32Array>[];
  before(() => {
    const root = tempDir({ after: (fn) => process.on("exit", fn) }, "ms-geometry-");
    family = path.join(root, "family");
    // vocab 1024 x hidden 128: embed_tokens / lm_head span two 64Ki chunks
    tinyFamily(family, { ctCheckpoints: 1, hidden: 128, vocab: 1024 });
    base = loadModel(path.join(family, "base"));
    models = [loadModel(path.join(family, "sft")), loadModel(path.join(family, "ct-2B"))];
  });

  it("should print every tensor's geometry in analyze --json, equal to the reference (bf16 storage compute, the paper's densities)", () => {
    const file = path.join(family, "paper.yml");
    writeFileSync(file, recipe([0.2, 1.0]));
    const r = cli("analyze", file, "--json", "--threads", "2");
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as StatsReport;
    assert.ok(report.tensors.some((t) => t.numel > 65536), "a tensor spans several chunks");
    assertReportGeometry(report, base, models, { dtype: "BF16", mode: "native" });
    // the paper's CT density keeps every position: Jaccard = |SFT mask| / numel
    for (const t of report.tensors) assert.equal(t.geometry!.mask_union, t.numel);
  });

  it("should follow the compute dtype and the tie order (float32 compute, index ties, 1 thread)", () => {
    const file = path.join(family, "f32.yml");
    writeFileSync(file, recipe([0.3, 0.45], "tie_order: index"));
    const r = cli("analyze", file, "--json", "--threads", "1", "--compute-dtype", "float32");
    assert.equal(r.status, 0, r.stderr);
    assertReportGeometry(JSON.parse(r.stdout) as StatsReport, base, models, { dtype: "BF16", mode: "f32" }, "index");
  });

  it("should give every density-sweep point the geometry of a single analysis", async () => {
    const grid = [0.01, 0.2, 1.0];
    const sweep = await analyzeSweep(parseRecipeYaml(recipe([1, 1]), { recipeDir: family }), grid, { threads: 2 });
    assert.equal(sweep.sweep.length, 9);
    for (const point of sweep.sweep) {
      const single = await analyze(parseRecipeYaml(recipe(point.densities as [number, number]), { recipeDir: family }));
      point.tensors.forEach((t, i) => assert.deepEqual(t.geometry, single.tensors[i]!.geometry, `${t.name} at ${point.densities}`));
      assert.deepEqual(point.totals.geometry, single.totals.geometry);
    }
    // and the reference at one point
    const p = sweep.sweep[3]!; // (0.2, 0.01)
    assertReportGeometry(pointReport(sweep, 3), base, models, { dtype: "BF16", mode: "native" });
    assert.deepEqual(p.densities, [0.2, 0.01]);
  });

  it("should report no pair values for one model, and a null cosine (not NaN) for a zero task vector", async () => {
    const one = await analyze(parseRecipeYaml("merge_method: ties\nbase_model: ./base\nmodels:\n  - model: ./sft\n    parameters: {density: 0.5}\n", { recipeDir: family }));
    for (const t of one.tensors) {
      assert.equal(t.geometry!.tv_sum_sq.length, 1);
      assert.equal(t.geometry!.cosine, null);
      assert.equal(t.geometry!.dot, null);
      assert.equal(t.geometry!.jaccard, null);
    }
    // a copy of the base as a model (the base itself would be dropped from the models, as mergekit does): tau = 0
    cpSync(path.join(family, "base"), path.join(family, "base-copy"), { recursive: true });
    const zero = await analyze(parseRecipeYaml("merge_method: ties\nbase_model: ./base\nmodels:\n  - model: ./base-copy\n    parameters: {density: 0.2}\n  - model: ./sft\n    parameters: {density: 1.0}\n", { recipeDir: family }));
    for (const g of [zero.totals.geometry!, ...zero.tensors.map((t) => t.geometry!)]) {
      assert.equal(g.tv_norm[0], 0);
      assert.ok(g.tv_norm[1]! > 0);
      assert.equal(g.cosine, null);
      assert.equal(g.sign_agreement, null);
      assert.equal(g.both_nonzero, 0);
    }
    assert.ok(!JSON.stringify(zero).includes("NaN"));
  });

  it("should count the golden tie-order case's kept sets exactly as its golden trim masks", async () => {
    const id = "ties_bf16_tieorder_n65536";
    const dir = caseDir(id);
    const yaml = "merge_method: ties\nbase_model: ./base.safetensors\nmodels:\n  - model: ./model_a.safetensors\n    parameters: {weight: 1.0, density: 0.3}\n  - model: ./model_b.safetensors\n    parameters: {weight: 0.5, density: 0.6}\n";
    const report = await analyze(parseRecipeYaml(yaml, { recipeDir: dir }));
    const b = loadModel(path.join(dir, "base.safetensors"));
    const m = [loadModel(path.join(dir, "model_a.safetensors")), loadModel(path.join(dir, "model_b.safetensors"))];
    assertReportGeometry(report, b, m, { dtype: "BF16", mode: "native" });
    const masks = readSafetensors(path.join(dir, "trim_mask.safetensors"));
    const t = report.tensors[0]!;
    const ma = masks.readTensor(`model_a/${t.name}`).bytes;
    const mb = masks.readTensor(`model_b/${t.name}`).bytes;
    let inter = 0;
    let union = 0;
    for (let j = 0; j < t.numel; j++) {
      inter += ma[j]! & mb[j]!;
      union += ma[j]! | mb[j]!;
    }
    assert.equal(t.geometry!.mask_intersection, inter);
    assert.equal(t.geometry!.mask_union, union);
    assert.equal(inter + union, 19660 + 39321, "|m_a| + |m_b| = golden k_a + k_b");
    // the reference's own masks are the golden ones (the comparison above is not circular)
    const delta = (x: Float32Array) => Float32Array.from(x, (v, j) => v - b.get(t.name)![j]!);
    assert.deepEqual(keptMask(delta(m[0]!.get(t.name)!), 0.3, "mergekit"), Uint8Array.from(ma));
  });
});
