// The one-pass density sweep (analyzeSweep, `mergescope analyze --densities`): every grid
// point must equal a single analyze() at those densities — counts and thresholds exactly,
// discarded_l1 up to float64 summation order — for 2 and 3 models, both elections, native
// and float32 compute, and tensors on both top-k paths (sampled window: >= 2^19 elements).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import { analyze, analyzeSweep, type SweepReport } from "@/server/engine/merge";
import type { Recipe } from "@/server/engine/recipe";
import { parseRecipeYaml } from "@/server/engine/recipe";
import type { StatsReport } from "@/server/engine/stats";
import { generateModelFamily, type ModelFamily } from "@/server/engine/synthetic/family";
import { nativeMergeSkipReason, tempDir } from "./helpers";

const skip = nativeMergeSkipReason();

function recipeFor(family: ModelFamily, roles: string[], extra = ""): Recipe {
  const dir = (name: string) => family.members.find((m) => m.name === name)!.dir;
  const models = roles.map((r) => `  - model: ${dir(r)}\n    parameters: {weight: 1, density: 1}\n`).join("");
  return parseRecipeYaml(`merge_method: ties\nbase_model: ${dir("base")}\nmodels:\n${models}${extra}`, { recipeDir: family.out });
}

const COUNT_FIELDS = ["k", "nnz_trimmed", "discarded", "contributing", "in_conflict", "conflicts_won", "rescued"] as const;

/** Every count of a sweep point equals the single analysis; L1 sums agree to 1e-9 relative. */
function assertSameStats(point: SweepReport["sweep"][number], single: StatsReport, where: string): void {
  assert.equal(point.tensors.length, single.tensors.length, `${where}: tensor count`);
  point.tensors.forEach((t, x) => {
    const s = single.tensors[x]!;
    const at = `${where} ${t.name}`;
    assert.equal(t.name, s.name);
    assert.equal(t.sign_conflicts, s.sign_conflicts, `${at} sign_conflicts`);
    assert.equal(t.n_positions_no_contributor, s.n_positions_no_contributor, `${at} no contributor`);
    assert.equal(t.n_majority_negative, s.n_majority_negative, `${at} majority negative`);
    for (const f of COUNT_FIELDS) assert.deepEqual(t[f], s[f], `${at} ${f}`);
    assert.deepEqual(t.threshold, s.threshold, `${at} threshold`);
    t.discarded_l1.forEach((v, i) => {
      const w = s.discarded_l1[i]!;
      assert.ok(Math.abs(v - w) <= 1e-9 * Math.max(1e-30, Math.abs(w)), `${at} discarded_l1[${i}]: ${v} vs ${w}`);
    });
  });
  assert.deepEqual(point.totals.sign_conflicts, single.totals.sign_conflicts, `${where} totals`);
}

describe("density sweep", { skip }, () => {
  let family: ModelFamily;
  before(() => {
    const root = tempDir({ after: (fn) => process.on("exit", fn) }, "ms-sweep-");
    // vocab 4096 x hidden 128: embed_tokens / lm_head have 2^19 elements (sampled top-k path)
    family = generateModelFamily({
      hidden: 128, layers: 1, intermediate: 256, vocab: 4096, heads: 4, kvHeads: 2,
      out: root, ctCheckpoints: 2, tokensPerCheckpoint: 8, dtype: "bf16", seed: 3,
    });
  });

  it("equals single analyses at every point of the paper's 6 x 6 grid (sum election, bf16 native)", async () => {
    const grid = [0.01, 0.2, 0.4, 0.6, 0.8, 1.0];
    const recipe = recipeFor(family, ["sft", "ct-8B"]);
    const sweep = await analyzeSweep(recipe, grid, { threads: 2 });
    assert.equal(sweep.sweep.length, 36);
    assert.deepEqual(sweep.sweep[7]!.densities, [0.2, 0.2]); // first model slowest
    assert.deepEqual(sweep.sweep[6]!.densities, [0.2, 0.01]);
    for (const point of sweep.sweep) {
      const single = await analyze({ ...recipe, models: recipe.models.map((m, i) => ({ ...m, density: point.densities[i]! })) }, { threads: 1 });
      assertSameStats(point, single, `[${point.densities}]`);
    }
  });

  it("equals single analyses for count election, float32 compute and repeated densities", async () => {
    const grid = [0.35, 0.05, 0.35, 1];
    const recipe = recipeFor(family, ["sft", "ct-8B"], "parameters:\n  consensus: count\n");
    const sweep = await analyzeSweep(recipe, grid, { threads: 2, computeDtype: "float32" });
    assert.equal(sweep.sweep.length, 16);
    for (const point of sweep.sweep) {
      const single = await analyze({ ...recipe, models: recipe.models.map((m, i) => ({ ...m, density: point.densities[i]! })) }, { computeDtype: "float32" });
      assertSameStats(point, single, `count [${point.densities}]`);
    }
  });

  it("equals single analyses with three models (elections of every model subset)", async () => {
    const grid = [0.1, 0.5, 1];
    const recipe = recipeFor(family, ["sft", "ct-8B", "ct-16B"]);
    recipe.models[1]!.weight = 0.5;
    const sweep = await analyzeSweep(recipe, grid, { threads: 2 });
    assert.equal(sweep.sweep.length, 27);
    for (const point of sweep.sweep) {
      const single = await analyze({ ...recipe, models: recipe.models.map((m, i) => ({ ...m, density: point.densities[i]! })) });
      assertSameStats(point, single, `3 models [${point.densities}]`);
    }
  });

  it("is deterministic across thread counts and rejects what it cannot sweep", async () => {
    const recipe = recipeFor(family, ["sft", "ct-8B"]);
    const a = await analyzeSweep(recipe, [0.2, 0.6], { threads: 1 });
    const b = await analyzeSweep(recipe, [0.2, 0.6], { threads: 2 });
    assert.deepEqual(a, b);
    await assert.rejects(analyzeSweep({ ...recipe, method: "ties_sv" }, [0.2]), /density sweeps run on merge_method ties/);
    await assert.rejects(analyzeSweep(recipe, [0.2, 1.5]), /expected a non-empty array of densities in \[0, 1\] for densities/);
    await assert.rejects(analyzeSweep(recipe, []), /non-empty array/);
  });

  it("runs from the CLI: analyze --densities --json", (t) => {
    const dir = tempDir(t);
    const recipe = recipeFor(family, ["sft", "ct-8B"]);
    const file = path.join(dir, "recipe.yml");
    writeFileSync(
      file,
      `merge_method: ties\nbase_model: ${recipe.basePath}\nmodels:\n${recipe.models.map((m) => `  - model: ${m.path}\n    parameters: {weight: 1, density: 0.5}\n`).join("")}`,
    );
    const r = spawnSync(process.execPath, ["bin/mergescope.mjs", "analyze", file, "--json", "--densities", "0.01,0.2,1"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as SweepReport;
    assert.equal(report.sweep.length, 9);
    assert.deepEqual(report.sweep.map((p) => p.densities.join("/")), ["0.01/0.01", "0.01/0.2", "0.01/1", "0.2/0.01", "0.2/0.2", "0.2/1", "1/0.01", "1/0.2", "1/1"]);
    assert.ok(report.sweep.every((p) => p.totals.numel === report.sweep[0]!.totals.numel && p.tensors.length > 0));
    const text = spawnSync(process.execPath, ["bin/mergescope.mjs", "analyze", file, "--densities", "0.2,1"], { encoding: "utf8" });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /4 density combinations over 2 models/);
    const bad = spawnSync(process.execPath, ["bin/mergescope.mjs", "analyze", file, "--densities", "0.2,x"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--densities expects comma-separated numbers in \[0, 1\], got "x"/);
  });
});
