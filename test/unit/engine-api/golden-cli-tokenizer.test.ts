// Every kind `cli` golden case (whole tiny Llama folders run through mergekit-yaml) through
// the Node API and the `mergescope merge` CLI, in both compute modes (recipe.yml: float32
// arithmetic + bfloat16 output; recipe_native.yml: storage dtype): model.safetensors bit for
// bit (embedding rows by token for the union tokenizer), config.json byte for byte, the
// tokenizer files, mergekit_config.yml, and a manifest without absolute paths.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { merge } from "@/server/engine/merge";
import { MANIFEST_FILE, MERGEKIT_CONFIG_FILE, verifyOutput, type OutputManifest } from "@/server/engine/output";
import { loadRecipeFile } from "@/server/engine/recipe";
import { parse } from "yaml";
import { openCheckpoint, readSafetensors } from "@/test/support/safetensors";
import { caseDir, nativeMergeSkipReason, tempDir } from "./helpers";
import {
  assertSameFile,
  assertTensorsMatch,
  assertTokenizerJsonMatches,
  cliCaseIds,
  cliRuns,
  loadCliCase,
  vocabOf,
  type CliCase,
  type MaskFor,
} from "./golden-cli-tokenizer";

const skip = nativeMergeSkipReason();

function cli(...args: string[]) {
  return spawnSync(process.execPath, ["bin/mergescope.mjs", ...args], { encoding: "utf8", timeout: 120_000 });
}




/** Everything a finished output of case `c`, run `run`, must hold. */
function checkOutput(c: CliCase, run: ReturnType<typeof cliRuns>[number], outDir: string): number {
  const dir = caseDir(c.id);
  assertSameFile(path.join(outDir, "config.json"), path.join(dir, run.config));
  const union = c.exactness === "exact_up_to_token_id_permutation";
  let byToken;
  if (union) {
    const ours = vocabOf(outDir);
    const donorDir = path.join(dir, "models", "ct");
    byToken = { ours, donorDir, donorVocab: vocabOf(donorDir) };
    // Our documented rule: the donor's new tokens in its own id order.
    const arbitrary = c.tokenizer!.arbitrary_id_tokens;
    const byDonorId = [...arbitrary].sort((a, b) => byToken!.donorVocab.get(a)! - byToken!.donorVocab.get(b)!);
    assert.deepEqual(byDonorId.map((t) => ours.get(t)), byDonorId.map((_, i) => 64 + i), "union numbering rule");
  }
  // every position, top-k threshold ties included (mergekit's tie order)
  const tolerated = assertTensorsMatch(c, outDir, run.tensors, byToken, () => null);
  if (run.tokenizerDir) {
    assertSameFile(path.join(outDir, "tokenizer_config.json"), path.join(run.tokenizerDir, "tokenizer_config.json"));
    if (union) assertTokenizerJsonMatches(path.join(outDir, "tokenizer.json"), path.join(run.tokenizerDir, "tokenizer.json"), c.tokenizer!.arbitrary_id_tokens);
    else assertSameFile(path.join(outDir, "tokenizer.json"), path.join(run.tokenizerDir, "tokenizer.json"));
  }
  // mergekit_config.yml: the recipe text as given.
  assertSameFile(path.join(outDir, MERGEKIT_CONFIG_FILE), path.join(dir, run.recipe));
  const manifestText = readFileSync(path.join(outDir, MANIFEST_FILE), "utf8");
  assert.ok(!manifestText.includes(path.resolve(dir)) && !manifestText.includes(process.cwd()), "the manifest holds no absolute path of this machine");
  const manifest = JSON.parse(manifestText) as OutputManifest;
  assert.equal(manifest.version, 2);
  assert.match(manifest.recipeSha256, /^[0-9a-f]{64}$/);
  assert.ok(manifest.inputs.every((i) => i.source.startsWith("./models/") && /^[0-9a-f]{64}$/.test(i.fingerprint)));
  const card = readFileSync(path.join(outDir, "README.md"), "utf8");
  assert.match(card, /^---\nbase_model: \[\]\n/, "no local path in the card's base_model");
  assert.ok(!card.includes(path.resolve(dir)), "the card holds no absolute path");
  return tolerated;
}

describe("golden cli cases through merge()", { skip }, () => {
  it("finds the cli cases", () => assert.ok(cliCaseIds().length >= 5));
  for (const id of cliCaseIds()) {
    const c = loadCliCase(id);
    for (const run of cliRuns(c)) {
      it(`${id} (${run.recipe})`, async (t) => {
        const root = tempDir(t);
        const recipe = await loadRecipeFile(path.join(caseDir(id), run.recipe));
        const outDir = path.join(root, "merged");
        const outcome = await merge(recipe, outDir, { threads: 2 });
        const tolerated = checkOutput(c, run, outDir);
        assert.equal(tolerated, 0);
        const verified = await verifyOutput(outDir);
        assert.equal(verified.ok, true, JSON.stringify(verified.problems));
        if (c.exactness === "exact_up_to_token_id_permutation") {
          assert.equal(outcome.stats.tokenizer?.vocab_size, 80);
          assert.equal(outcome.stats.tokenizer?.not_merged.count, 16, "ct's 16 new tokens cannot be merged");
          assert.match(outcome.stats.warnings.join("\n"), /16 embedding row\(s\) could not be merged/);
          assert.match(readFileSync(path.join(outDir, "README.md"), "utf8"), /Token numbering: tokens that only other models have/);
        }
        if (id === "cli_ties_tokenizer_none_bf16") {
          // ct's 16 extra rows are cut, as mergekit does: reported loudly, not silently.
          assert.equal(outcome.stats.tensors.filter((x) => x.row_cut).length, 2);
          assert.match(outcome.stats.warnings.join("\n"), /last 16 rows .* are DROPPED/);
          assert.match(readFileSync(path.join(outDir, "README.md"), "utf8"), /> Warning: .*DROPPED/);
        }
        if (id.includes("lora")) {
          assert.equal(outcome.stats.loras?.length, 1);
          assert.deepEqual({ ...outcome.stats.loras![0], model: undefined }, { model: undefined, adapter: "./models/lora", r: 4, lora_alpha: 8, use_rslora: false, scale: 2, tensors: 12 });
        }
      });
    }
  }
});

describe("golden cli cases through `mergescope merge`", { skip }, () => {
  for (const id of cliCaseIds()) {
    const c = loadCliCase(id);
    for (const run of cliRuns(c)) {
      it(`${id} (${run.recipe})`, (t) => {
        const root = tempDir(t);
        const outDir = path.join(root, "merged");
        const r = cli("merge", path.join(caseDir(id), run.recipe), outDir, "--threads", "2");
        assert.equal(r.status, 0, r.stderr);
        assert.ok(existsSync(path.join(outDir, "config.json")));
        const tolerated = checkOutput(c, run, outDir);
        assert.equal(tolerated, 0);
      });
    }
  }
});
