// `mergescope merge | analyze | inspect`: exit codes and messages for usage and recipe errors
// (no engine needed), then real runs on golden cases (skipped until the merge binding exists).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { verifyOutput } from "@/server/engine/output";
import type { StatsReport } from "@/server/engine/stats";
import type { NativeInspectResult } from "@/server/engine/types";
import { openCheckpoint, readSafetensors } from "@/test/support/safetensors";
import { goldenCaseIds, loadCase } from "../engine/golden-fixtures";
import { assertMatchesExpected, expectedFiles, NEWER_GOLDEN_METHODS, perTensorInputs } from "./golden-compare";
import { caseDir, nativeMergeSkipReason, runnableGoldenYaml, tempDir, type GoldenCaseFull } from "./helpers";

function cli(...args: string[]) {
  return spawnSync(process.execPath, ["bin/mergescope.mjs", ...args], { encoding: "utf8", timeout: 120_000 });
}

describe("CLI usage and recipe errors (exit 2)", () => {
  it("lists the new commands in --help", () => {
    const r = cli("--help");
    assert.equal(r.status, 0);
    assert.match(r.stdout, /merge\s+Merge checkpoints/);
    assert.match(r.stdout, /analyze\s+Run a recipe without writing a model/);
    assert.match(r.stdout, /inspect\s+List a checkpoint's tensors/);
    assert.match(cli("merge", "--help").stdout, /--shard-size SIZE/);
  });

  it("rejects wrong arguments with the usage", (t) => {
    const dir = tempDir(t);
    const recipe = path.join(dir, "r.yml");
    writeFileSync(recipe, "merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 1}\n");
    const cases: [string[], RegExp][] = [
      [["merge", recipe], /expected RECIPE\.yml and OUT_DIR, got 1 argument/],
      [["merge", recipe, "out", "--shard-size", "5XB"], /--shard-size: expected a size such as 5GB/],
      [["merge", recipe, "out", "--threads", "many"], /--threads: expected an integer in \[0, 1024\]/],
      [["merge", recipe, "out", "--compute-dtype", "bf16"], /--compute-dtype: expected float32 or storage, got 'bf16'/],
      [["merge", recipe, "out", "--bogus"], /Unknown option '--bogus'/],
      [["analyze"], /expected one RECIPE\.yml, got 0/],
      [["inspect"], /expected one PATH, got 0/],
    ];
    for (const [args, re] of cases) {
      const r = cli(...args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(" "));
      assert.match(r.stderr, /Usage: mergescope /);
    }
  });

  it("reports recipe problems with file, YAML path and line, and writes nothing", (t) => {
    const dir = tempDir(t);
    const recipe = path.join(dir, "r.yml");
    writeFileSync(recipe, "merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n    parameters:\n      density: high\nmodules: {}\n");
    const r = cli("merge", recipe, path.join(dir, "out"));
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`mergescope merge: ${recipe.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: `));
    assert.match(r.stderr, /modules \(line 7\): mergekit key `modules` is not supported/);
    const r2 = cli("analyze", path.join(dir, "missing.yml"));
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /cannot read recipe .*missing\.yml: no such file/);
    writeFileSync(recipe, "merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n    parameters:\n      density: high\n");
    const r3 = cli("analyze", recipe);
    assert.equal(r3.status, 2);
    assert.match(r3.stderr, /models\[0\]\.parameters\.density \(line 6\): expected a number in \[0, 1\], got 'high'/);
    assert.deepEqual(readdirSync(dir), ["r.yml"]);
  });

  it("prints recipe notes and exits 1 with [CODE] for a missing model", (t) => {
    const dir = tempDir(t);
    const recipe = path.join(dir, "r.yml");
    writeFileSync(recipe, "merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n");
    const r = cli("merge", recipe, path.join(dir, "out"));
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /note: models\[0\]: no `weight` given; using 1\.0/);
    assert.match(r.stderr, /mergescope merge: \[MODEL_NOT_FOUND\] base_model: .*base does not exist/);
  });
});

const skip = nativeMergeSkipReason();

describe("CLI merge on every golden case", { skip }, () => {
  for (const id of goldenCaseIds(["della", "della_linear"])) {
    const gc = loadCase(id) as GoldenCaseFull;
    for (const { yaml, file, label } of expectedFiles(gc)) {
      it(`${id} (${label} → ${file}; --seed ${gc.randomness!.seed} before each tensor)`, (t) => {
        const dir = tempDir(t);
        for (const [name, inputs] of perTensorInputs(gc, path.join(dir, "inputs"))) {
          const recipe = path.join(inputs, "recipe.yml");
          writeFileSync(recipe, runnableGoldenYaml(gc, yaml));
          const out = path.join(dir, `merged-${name}`);
          const r = cli("merge", recipe, out, "--seed", String(gc.randomness!.seed), "--threads", "2");
          assert.equal(r.status, 0, r.stderr);
          assertMatchesExpected(gc, out, file, "mergekit", name);
        }
      });
    }
  }
  it("cli_della_seeded_bf16 (mergekit-yaml --random-seed 42 = mergescope merge --seed 42), both recipes", (t) => {
    const dir = tempDir(t);
    const caseFolder = caseDir("cli_della_seeded_bf16");
    for (const [recipe, expected] of [["recipe.yml", "expected.safetensors"], ["recipe_native.yml", "expected_native.safetensors"]] as const) {
      const out = path.join(dir, recipe);
      const r = cli("merge", path.join(caseFolder, recipe), out, "--seed", "42");
      assert.equal(r.status, 0, r.stderr);
      const want = readSafetensors(path.join(caseFolder, expected));
      const got = openCheckpoint(out);
      for (const name of want.tensorNames()) assert.deepEqual(got.readTensor(name).bytes, want.readTensor(name).bytes, `${recipe} ${name}`);
    }
  });
  for (const id of goldenCaseIds(["linear", "task_arithmetic", "ties", "breadcrumbs", "breadcrumbs_ties", "slerp", "model_stock", "passthrough", ...NEWER_GOLDEN_METHODS], ["tensor", "tie_order"])) {
    const gc = loadCase(id) as GoldenCaseFull;
    for (const { yaml: caseYaml, file, label } of expectedFiles(gc)) {
      it(`${id} (${label} → ${file})`, (t) => {
        const dir = tempDir(t);
        const yaml = runnableGoldenYaml(gc, caseYaml).replace(/\.\/(\w+\.safetensors)/g, (_, f: string) => path.join(caseDir(gc.id), f));
        writeFileSync(path.join(dir, "recipe.yml"), yaml);
        const out = path.join(dir, "merged");
        const r = cli("merge", path.join(dir, "recipe.yml"), out, "--threads", "2");
        assert.equal(r.status, 0, r.stderr);
        assertMatchesExpected(gc, out, file);
      });
    }
  }
});

describe("CLI end to end", { skip }, () => {
  const c = loadCase("ties_bf16_sum_norm_a0.2_b1.0") as GoldenCaseFull;
  const writeRecipe = (dir: string, field: "mergekit_yaml_expected" | "mergekit_yaml_native") => {
    // Absolute paths: the recipe lives in a temporary folder, the models in the fixtures.
    const yaml = runnableGoldenYaml(c, c[field]!).replace(/\.\/(\w+\.safetensors)/g, (_, f: string) => path.join(caseDir(c.id), f));
    const file = path.join(dir, "recipe.yml");
    writeFileSync(file, yaml);
    return file;
  };

  it("merge writes the model, the stats file and a summary", async (t) => {
    const dir = tempDir(t);
    const recipe = writeRecipe(dir, "mergekit_yaml_expected");
    const out = path.join(dir, "merged");
    const stats = path.join(dir, "stats.json");
    const r = cli("merge", recipe, out, "--stats", stats, "--threads", "2", "--shard-size", "5GB");
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.equal(lines[0], out);
    assert.match(r.stdout, /1 shard\(s\), .* written, .* read in .* s; sha256 [0-9a-f]{64}/);
    assert.match(r.stdout, /nnz trimmed\s+discarded by sign election\s+% of nnz\s+rescued/);
    assert.match(r.stdout, /sign conflicts: \d+ of 5,572 positions/);
    assert.match(r.stderr, /merging/); // plain progress lines (stderr is not a TTY here)
    const report = JSON.parse(readFileSync(stats, "utf8")) as StatsReport;
    assert.equal(report.method, "ties");
    assert.equal(report.tensors.length, 2);
    assertMatchesExpected(c, out, "expected.safetensors");
    assert.equal((await verifyOutput(out)).ok, true);

    const again = cli("merge", recipe, out);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /\[OUT_EXISTS\] output directory .* already exists/);
    const over = cli("merge", recipe, out, "--overwrite", "--compute-dtype", "storage");
    assert.equal(over.status, 0, over.stderr);
  });

  it("analyze prints the summary, or the full report with --json", (t) => {
    const dir = tempDir(t);
    const recipe = writeRecipe(dir, "mergekit_yaml_native");
    const text = cli("analyze", recipe);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^method: ties, 2 tensors, 5,572 parameters/);
    assert.match(text.stdout, /^module\s+sign conflicts/m);
    const json = cli("analyze", recipe, "--json", "--threads", "1", "--compute-dtype", "float32");
    assert.equal(json.status, 0, json.stderr);
    const report = JSON.parse(json.stdout) as StatsReport;
    assert.deepEqual(report.byModule.map((g) => g.module), ["down", "norm"]);
    assert.deepEqual(readdirSync(dir), ["recipe.yml"]);
  });

  it("inspect lists tensors, and reports engine errors as [CODE] with exit 1", (t) => {
    const base = path.join(caseDir(c.id), "base.safetensors");
    const json = cli("inspect", base, "--json");
    assert.equal(json.status, 0, json.stderr);
    const info = JSON.parse(json.stdout) as NativeInspectResult;
    assert.equal(info.parameterCount, 5572);
    assert.deepEqual(info.tensors.map((x) => x.dtype), ["BF16", "BF16"]);
    const text = cli("inspect", base);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /parameters: 5,572/);
    assert.match(text.stdout, /layers\.0\.mlp\.down_proj\.weight\s+BF16\s+\[48, 64\]/);
    const dir = tempDir(t);
    writeFileSync(path.join(dir, "tiny.safetensors"), "abc");
    const bad = cli("inspect", path.join(dir, "tiny.safetensors"));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /mergescope inspect: \[ST_FILE_TOO_SMALL\]/);
    assert.ok(!existsSync(path.join(dir, "out")));
  });
});
