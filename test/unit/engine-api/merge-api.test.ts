// merge() / analyze(): argument validation and pre-flight checks (no engine needed), then
// end-to-end runs of the golden cases through the native engine (skipped until the
// native merge binding exists).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { analyze, merge } from "@/server/engine/merge";
import { MANIFEST_FILE, verifyOutput } from "@/server/engine/output";
import { parseRecipeYaml, type Recipe } from "@/server/engine/recipe";
import { tiesSvModel, type RefTensor } from "@/test/reference";
import { openCheckpoint, readSafetensors } from "@/test/support/safetensors";
import { goldenCaseIds, loadCase, loadTensors } from "../engine/golden-fixtures";
import { assertMatchesExpected, assertSceStatsMatchGolden, assertStatsMatchGolden, expectedFiles, NEWER_GOLDEN_METHODS, perTensorInputs } from "./golden-compare";
import { caseDir, nativeMergeSkipReason, runnableGoldenYaml, tempDir, type GoldenCaseFull } from "./helpers";

const skip = nativeMergeSkipReason();

function localRecipe(root: string, extra = ""): Recipe {
  for (const m of ["base", "a", "b"]) writeFileSync(path.join(root, `${m}.safetensors`), "not read in these tests");
  return parseRecipeYaml(
    `merge_method: ties\nbase_model: base.safetensors\nmodels:\n  - model: a.safetensors\n    parameters: {weight: 1, density: 0.5}\n  - model: b.safetensors\n    parameters: {weight: 1}\n${extra}`,
    { recipeDir: root },
  );
}

describe("merge() checks its arguments before doing anything", () => {
  it("rejects bad arguments with 'expected X for Y, got Z'", async (t) => {
    const root = tempDir(t);
    const recipe = localRecipe(root);
    const out = path.join(root, "out");
    await assert.rejects(merge(null as never, out), /expected a Recipe \(from parseRecipeYaml or loadRecipeFile\) for recipe, got null/);
    await assert.rejects(merge(recipe, "  "), /expected a directory path for outDir, got "  "/);
    await assert.rejects(merge(recipe, out, { threads: 1.5 }), /expected an integer in \[0, 1024\] for threads, got 1\.5/);
    await assert.rejects(merge(recipe, out, { shardSizeBytes: -5 }), /expected a positive integer number of bytes for shardSizeBytes, got -5/);
    await assert.rejects(merge(recipe, out, { computeDtype: "bf16" as never }), /expected float32\|storage for computeDtype, got "bf16"/);
    await assert.rejects(merge(recipe, out, { signal: {} as never }), /expected an AbortSignal for signal/);
    await assert.rejects(merge(recipe, out, { overwrite: "yes" as never }), /expected a boolean for overwrite, got "yes"/);
    await assert.rejects(analyze({ ...recipe, method: "frobnicate" as never }), /expected linear\|task_arithmetic\|ties\|ties_sv\|breadcrumbs.*for recipe\.method, got "frobnicate"/);
    assert.deepEqual(readdirSync(root).sort(), ["a.safetensors", "b.safetensors", "base.safetensors"]);
  });

  it("MODEL_NOT_FOUND names the recipe entry, before any staging exists", async (t) => {
    const root = tempDir(t);
    const recipe = localRecipe(root);
    recipe.models[1]!.path = path.join(root, "missing");
    await assert.rejects(merge(recipe, path.join(root, "out")), (err: Error & { code: string }) => {
      assert.equal(err.code, "MODEL_NOT_FOUND");
      assert.match(err.message, /models\[1\]: .*missing does not exist \(recipe says `b\.safetensors`\)/);
      return true;
    });
    assert.ok(!readdirSync(root).some((n) => n.startsWith(".")));
  });

  it("OUT_EXISTS for an existing output or one overlapping an input", async (t) => {
    const root = tempDir(t);
    const recipe = localRecipe(root);
    mkdirSync(path.join(root, "out"));
    await assert.rejects(merge(recipe, path.join(root, "out")), { code: "OUT_EXISTS" });
    await assert.rejects(merge(recipe, path.join(root, "base.safetensors")), /overlaps input model/);
    assert.ok(!readdirSync(root).some((n) => n.includes(".staging-")));
  });

  it("a pre-aborted signal cancels before anything is written", async (t) => {
    const root = tempDir(t);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(merge(localRecipe(root), path.join(root, "out"), { signal: controller.signal }), { code: "CANCELLED" });
    assert.ok(!existsSync(path.join(root, "out")));
  });
});

describe("merge() end to end on the golden cases", { skip }, () => {
  const methods = ["linear", "task_arithmetic", "ties", "breadcrumbs", "breadcrumbs_ties", "slerp", "model_stock", "passthrough", "della", "della_linear", ...NEWER_GOLDEN_METHODS];
  it("covers every golden case", () => {
    const all = goldenCaseIds(methods, ["tensor", "tie_order", "cli"]).length;
    assert.equal(all, JSON.parse(readFileSync(path.join(caseDir(""), "index.json"), "utf8")).cases.length);
  });
  for (const id of goldenCaseIds(["della", "della_linear"])) {
    const c = loadCase(id) as GoldenCaseFull;
    for (const { yaml, file, label } of expectedFiles(c)) {
      it(`${id} (${label} → ${file}; seed ${c.randomness!.seed} before each tensor)`, async (t) => {
        const root = tempDir(t);
        for (const [name, dir] of perTensorInputs(c, path.join(root, "inputs"))) {
          const recipe = { ...parseRecipeYaml(runnableGoldenYaml(c, yaml), { recipeDir: dir }), seed: c.randomness!.seed };
          const out = path.join(root, `merged-${name}`);
          const outcome = await merge(recipe, out, { threads: 2 });
          assertMatchesExpected(c, out, file, "mergekit", name);
          assert.deepEqual(outcome.stats.random, { stream: "mergekit", seed: c.randomness!.seed });
        }
      });
    }
  }
  it("cli_della_seeded_bf16: one stream across the model (mergekit-yaml --random-seed 42), both recipes", async (t) => {
    const root = tempDir(t);
    const dir = caseDir("cli_della_seeded_bf16");
    for (const [recipeFile, expected] of [["recipe.yml", "expected.safetensors"], ["recipe_native.yml", "expected_native.safetensors"]] as const) {
      const recipe = { ...parseRecipeYaml(readFileSync(path.join(dir, recipeFile), "utf8"), { recipeDir: dir }), seed: 42 };
      const out = path.join(root, recipeFile);
      const outcome = await merge(recipe, out, { threads: 2 });
      const want = readSafetensors(path.join(dir, expected));
      const got = openCheckpoint(out);
      assert.deepEqual(got.tensorNames().sort(), want.tensorNames().sort());
      for (const name of want.tensorNames()) assert.deepEqual(got.readTensor(name).bytes, want.readTensor(name).bytes, `${recipeFile} ${name}`);
      // the stream position each tensor started at: the sum of the earlier tensors' draws (name order)
      let draws = 0;
      for (const tn of [...outcome.stats.tensors].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))) {
        assert.deepEqual(tn.random_first_draw, [draws, draws + tn.numel], tn.name);
        draws += 2 * tn.numel;
      }
      const card = readFileSync(path.join(out, "README.md"), "utf8");
      assert.match(card, /Random keep masks: mergekit's stream, torch's MT19937 seeded with 42/);
    }
  });
  for (const id of goldenCaseIds(methods.filter((m) => !m.startsWith("della")), ["tensor", "tie_order"])) {
    const c = loadCase(id) as GoldenCaseFull;
    for (const { yaml, file, statsKey, label } of expectedFiles(c)) {
      it(`${id} (${label} → ${file})`, async (t) => {
        const root = tempDir(t);
        const recipe = parseRecipeYaml(runnableGoldenYaml(c, yaml), { recipeDir: caseDir(id) });
        const outDir = path.join(root, "merged");
        const progress: string[] = [];
        const outcome = await merge(recipe, outDir, { threads: 2, onProgress: (p) => progress.push(p.phase) });
        assert.equal(outcome.outDir, outDir);
        assert.ok(progress.length > 0, "progress was reported");
        assertMatchesExpected(c, outDir, file);
        if ((c.method === "ties" || c.method.startsWith("breadcrumbs")) && c.kind !== "tie_order") assertStatsMatchGolden(c, outcome.stats, statsKey);
        if (c.kind === "tie_order") assert.equal(outcome.stats.tie_order, "mergekit");
        if (c.method === "sce") assertSceStatsMatchGolden(c, outcome.stats, statsKey);
        const verified = await verifyOutput(outDir);
        assert.equal(verified.ok, true, JSON.stringify(verified.problems));
        assert.equal(verified.outputSha256, outcome.manifestSha256);
        assert.ok(existsSync(path.join(outDir, "README.md")) && existsSync(path.join(outDir, MANIFEST_FILE)));
        assert.deepEqual(readdirSync(root), ["merged"], "no staging folder left behind");
        if (id === "ties_f32_embed_rows_mismatch") assert.equal(outcome.stats.tensors.find((x) => x.name === "embed_tokens.weight")?.row_cut, true);
      });
    }
  }
});

describe("merge() / analyze() engine behaviour", { skip }, () => {
  const tiesCase = () => loadCase("ties_f32_sum_norm_a0.2_b1.0") as GoldenCaseFull;
  const svRecipe = (slack: number, scope = "model") => {
    const c = tiesCase();
    const yaml = runnableGoldenYaml(c, c.mergekit_yaml_expected!)
      .replace("merge_method: ties", "merge_method: ties_sv")
      .replace(/(model_b\.safetensors\n {4}parameters:\n)/, "$1      favored: true\n")
      .replace("parameters:\n  normalize: true", `parameters:\n  normalize: true\n  slack: ${slack}\n  slack_scope: ${scope}`);
    return parseRecipeYaml(yaml, { recipeDir: caseDir(c.id) });
  };

  it("ties_sv with slack 0 is exactly ties", async (t) => {
    const root = tempDir(t);
    const c = tiesCase();
    const recipe = svRecipe(0);
    assert.equal(recipe.method, "ties_sv");
    assert.deepEqual(recipe.models.map((m) => m.favored), [false, true]);
    await merge(recipe, path.join(root, "sv"));
    assertMatchesExpected(c, path.join(root, "sv"), "expected.safetensors");
  });

  for (const scope of ["model", "tensor"] as const) {
    it(`ties_sv (slack 0.04, ${scope} scope) matches the reference implementation`, async (t) => {
      const root = tempDir(t);
      const c = tiesCase();
      const outcome = await merge(svRecipe(0.04, scope), path.join(root, "sv"));
      const base = loadTensors(c.id, "base.safetensors")!;
      const models = c.models.map((m) => loadTensors(c.id, m.file)!);
      const inputs = new Map(
        [...base.keys()].map((name) => [
          name,
          { base: base.get(name)!, models: c.models.map((m, i) => ({ tensor: models[i]!.get(name) as RefTensor, weight: m.weight, density: m.density! })) },
        ]),
      );
      const ref = tiesSvModel(inputs, { dtype: "F32", mode: "f32", consensus: "sum", normalize: true, favored: 1, slack: 0.04, scope });
      const out = openCheckpoint(path.join(root, "sv"));
      for (const [name, r] of ref.tensors) {
        const actual = out.readFloat32(name);
        let differ = 0;
        r.merged.forEach((v, j) => (differ += Math.abs(v - actual[j]!) > 1e-7 && Math.abs(v - actual[j]!) > 4 * Math.abs(v) * 2 ** -23 ? 1 : 0));
        assert.equal(differ, 0, `${name}: values differ from the reference ties_sv`);
        const t2 = outcome.stats.tensors.find((x) => x.name === name)!;
        assert.equal(t2.sv_reserved, r.reserved, `${name} reserved`);
        assert.equal(t2.rescued[1], r.reserved, `${name} rescued by the favored model`);
      }
      if (scope === "model") assert.equal(outcome.stats.slack_budget, ref.budget);
      assert.equal(outcome.stats.totals.sv_reserved, ref.reserved);
    });
  }

  it("analyze() reports the same statistics as merge() without writing anything", async (t) => {
    const root = tempDir(t);
    const c = tiesCase();
    const recipe = parseRecipeYaml(runnableGoldenYaml(c, c.mergekit_yaml_expected!), { recipeDir: caseDir(c.id) });
    const merged = await merge(recipe, path.join(root, "m"));
    const report = await analyze(recipe, { threads: 1, roles: ["sft", "ct"] });
    assert.deepEqual(report.totals, merged.stats.totals);
    assert.deepEqual(report.models.map((m) => m.role), ["sft", "ct"]);
    assertStatsMatchGolden(c, report, "stats");
    assert.deepEqual(readdirSync(root), ["m"]);
  });

  it("--compute-dtype float32 on a recipe without dtype keeps the storage dtype (= expected.safetensors)", async (t) => {
    const root = tempDir(t);
    const c = loadCase("ties_bf16_sum_norm_a0.2_b1.0") as GoldenCaseFull;
    const recipe = parseRecipeYaml(runnableGoldenYaml(c, c.mergekit_yaml_native!), { recipeDir: caseDir(c.id) });
    await merge(recipe, path.join(root, "f32"), { computeDtype: "float32" });
    assertMatchesExpected(c, path.join(root, "f32"), "expected.safetensors");
  });

  it("cancellation during the merge leaves neither output nor staging", async (t) => {
    const root = tempDir(t);
    const c = tiesCase();
    const recipe = parseRecipeYaml(runnableGoldenYaml(c, c.mergekit_yaml_expected!), { recipeDir: caseDir(c.id) });
    const controller = new AbortController();
    await assert.rejects(merge(recipe, path.join(root, "out"), { signal: controller.signal, onProgress: () => controller.abort() }), { code: "CANCELLED" });
    assert.deepEqual(readdirSync(root), []);
  });

  it("overwrite replaces an earlier MergeScope output; engine errors carry their code", async (t) => {
    const root = tempDir(t);
    const c = tiesCase();
    const recipe = parseRecipeYaml(runnableGoldenYaml(c, c.mergekit_yaml_expected!), { recipeDir: caseDir(c.id) });
    const out = path.join(root, "out");
    await merge(recipe, out);
    await assert.rejects(merge(recipe, out), { code: "OUT_EXISTS" });
    // Two F32 tensors of 12 288 and 10 000 bytes: a 12 300-byte limit gives two shards + index.
    const again = await merge(recipe, out, { overwrite: true, shardSizeBytes: 12_300 });
    assert.equal(again.result.shards.length, 2);
    assert.equal(again.result.indexFile, "model.safetensors.index.json");
    assert.ok(existsSync(path.join(out, "model.safetensors.index.json")));
    assert.equal((await verifyOutput(out)).ok, true);
    assertMatchesExpected(c, out, "expected.safetensors");

    writeFileSync(path.join(root, "broken.safetensors"), "abc");
    const broken = { ...recipe, models: [recipe.models[0]!, { ...recipe.models[1]!, path: path.join(root, "broken.safetensors") }] };
    await assert.rejects(merge(broken, path.join(root, "never")), (err: Error & { code: string }) => {
      assert.match(err.code, /^ST_/);
      return true;
    });
    assert.ok(!existsSync(path.join(root, "never")));
    assert.ok(!readdirSync(root).some((n) => n.includes(".staging-")));
  });
});
