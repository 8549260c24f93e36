// Model references in recipes: `model+lora`, the object form, `org/name[@revision]` resolved
// offline in a (fake) Hugging Face cache, and the tokenizer keys.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { merge } from "@/server/engine/merge";
import { hfHubCacheDir, listHfCache, parseHfModelId, resolveHfModel } from "@/server/engine/model-ref/hf-cache";
import { RecipeError, parseRecipeYaml, recipeToYaml, type Recipe } from "@/server/engine/recipe";
import { MANIFEST_FILE, type OutputManifest } from "@/server/engine/output";
import { caseDir, nativeMergeSkipReason, tempDir } from "./helpers";
import { assertTensorsMatch, loadCliCase } from "./golden-cli-tokenizer";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const COMMIT2 = "fedcba9876543210fedcba9876543210fedcba98";

/** A hub cache holding org/model (main → COMMIT, v2 → COMMIT2) and org/lora (main). */
function fakeCache(root: string): string {
  const cache = path.join(root, "hub");
  const repo = (id: string, refs: Record<string, string>) => {
    const dir = path.join(cache, `models--${id.replace("/", "--")}`);
    for (const [ref, commit] of Object.entries(refs)) {
      mkdirSync(path.dirname(path.join(dir, "refs", ref)), { recursive: true });
      writeFileSync(path.join(dir, "refs", ref), `${commit}\n`);
      mkdirSync(path.join(dir, "snapshots", commit), { recursive: true });
      writeFileSync(path.join(dir, "snapshots", commit, "config.json"), "{}");
    }
  };
  repo("org/model", { main: COMMIT, v2: COMMIT2 });
  repo("org/lora", { main: COMMIT });
  return cache;
}

function parseError(text: string, recipeDir: string, hfCacheDir?: string): RecipeError {
  try {
    parseRecipeYaml(text, { recipeDir, hfCacheDir });
  } catch (err) {
    assert.ok(err instanceof RecipeError, String(err));
    return err;
  }
  assert.fail("parsed");
}

describe("Hugging Face ids in the local cache", () => {
  it("parses ids and revisions, and refuses what cannot be one", () => {
    assert.deepEqual(parseHfModelId("org/name"), { id: "org/name", revision: null });
    assert.deepEqual(parseHfModelId("org/name@refs/pr/1"), { id: "org/name", revision: "refs/pr/1" });
    assert.deepEqual(parseHfModelId("gpt2"), { id: "gpt2", revision: null });
    for (const bad of ["./local", "/abs/path", "a/b/c", "org/na--me", "org/..", "org/name@../x", "org/name@"]) assert.equal(parseHfModelId(bad), null, bad);
  });

  it("finds the cache as huggingface_hub does (HF_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME, ~/.cache)", () => {
    assert.equal(hfHubCacheDir({ HF_HUB_CACHE: "/c/hub", HF_HOME: "/h" }), "/c/hub");
    assert.equal(hfHubCacheDir({ HF_HOME: "/h" }), "/h/hub");
    assert.equal(hfHubCacheDir({ XDG_CACHE_HOME: "/x" }), "/x/huggingface/hub");
    assert.match(hfHubCacheDir({}), /\.cache\/huggingface\/hub$/);
  });

  it("resolves refs, tags and commits to snapshot folders, with a reason when missing", (t) => {
    const cache = fakeCache(tempDir(t));
    const snap = (c: string) => path.join(cache, "models--org--model", "snapshots", c);
    assert.deepEqual(resolveHfModel({ id: "org/model", revision: null }, cache), { ok: true, path: snap(COMMIT), commit: COMMIT, cacheDir: cache });
    assert.equal((resolveHfModel({ id: "org/model", revision: "v2" }, cache) as { path: string }).path, snap(COMMIT2));
    assert.equal((resolveHfModel({ id: "org/model", revision: COMMIT2 }, cache) as { path: string }).path, snap(COMMIT2));
    const missing = resolveHfModel({ id: "org/other", revision: null }, cache);
    assert.equal(missing.ok, false);
    assert.match((missing as { reason: string }).reason, /org\/other is not in the Hugging Face cache \(no models--org--other in /);
    assert.match((resolveHfModel({ id: "org/model", revision: "v9" }, cache) as { reason: string }).reason, /revision `v9` .*cached revisions: main, v2/);
    assert.deepEqual(listHfCache(cache).map((m) => [m.id, m.refs, m.snapshots.length]), [
      ["org/lora", { main: COMMIT }, 1],
      ["org/model", { main: COMMIT, v2: COMMIT2 }, 2],
    ]);
  });

  it("recipes name models by id; a local folder of the same name wins", (t) => {
    const root = tempDir(t);
    const cache = fakeCache(root);
    const r = parseRecipeYaml("merge_method: ties\nbase_model: org/model\nmodels:\n  - model: org/model@v2\n    parameters: {weight: 1}\n", { recipeDir: root, hfCacheDir: cache });
    assert.equal(r.basePath, path.join(cache, "models--org--model", "snapshots", COMMIT));
    assert.deepEqual(r.baseHf, { id: "org/model", revision: null, commit: COMMIT, problem: null });
    assert.equal(r.models[0]!.path, path.join(cache, "models--org--model", "snapshots", COMMIT2));
    assert.equal(r.models[0]!.source, "org/model@v2");
    mkdirSync(path.join(root, "org", "model"), { recursive: true });
    const local = parseRecipeYaml("merge_method: linear\nmodels:\n  - model: org/model\n    parameters: {weight: 1}\n", { recipeDir: root, hfCacheDir: cache });
    assert.equal(local.models[0]!.path, path.join(root, "org", "model"));
    assert.equal(local.models[0]!.hf, null);
  });

  it("a model missing from the cache fails the merge with MODEL_NOT_FOUND saying where it looked", async (t) => {
    const root = tempDir(t);
    const cache = fakeCache(root);
    const r = parseRecipeYaml("merge_method: linear\nmodels:\n  - model: org/absent@main\n    parameters: {weight: 1}\n", { recipeDir: root, hfCacheDir: cache });
    await assert.rejects(merge(r, path.join(root, "out")), (err: Error & { code: string }) => {
      assert.equal(err.code, "MODEL_NOT_FOUND");
      assert.match(err.message, /models\[0\]: `org\/absent@main` is not a local path .* and org\/absent is not in the Hugging Face cache \(no models--org--absent in .*hub\)/);
      assert.match(err.message, /huggingface-cli download org\/absent --revision main/);
      return true;
    });
  });

  it("refuses malformed references by name", (t) => {
    const root = tempDir(t);
    assert.match(parseError("merge_method: linear\nmodels:\n  - model: a@b@c\n", root).message, /models\[0\]\.model.*more than one `@`/);
    assert.match(parseError("merge_method: linear\nmodels:\n  - model: ./x@main\n", root).message, /`@REVISION` only applies to Hugging Face ids/);
    assert.match(parseError("merge_method: linear\nmodels:\n  - model: a+b+c\n", root).message, /more than one `\+`/);
    assert.match(parseError("merge_method: linear\nmodels:\n  - model: {model: a, override_architecture: X}\n", root).message, /override_architecture.*not supported/);
    assert.match(parseError("merge_method: linear\nmodels:\n  - model: {model: {path: a, rev: x}}\n", root).message, /unknown key `rev` \(supported: path, revision\)/);
  });
});

describe("LoRA references", () => {
  const TIES_LORA = (ref: string) => `merge_method: ties\nbase_model: ./base\nmodels:\n  - model: ./sft\n    parameters: {weight: 1, density: 0.5}\n  - model: ${ref}\n    parameters: {weight: 1, density: 0.3}\n`;

  it("`model+lora` and the object form give the same recipe; base+lora is not the base", (t) => {
    const root = tempDir(t);
    const a = parseRecipeYaml(TIES_LORA("./base+./lora"), { recipeDir: root });
    const b = parseRecipeYaml(TIES_LORA("{model: ./base, lora: ./lora}"), { recipeDir: root });
    const c = parseRecipeYaml(TIES_LORA("{model: {path: ./base}, lora: {path: ./lora}}"), { recipeDir: root });
    assert.equal(a.models.length, 2, "the LoRA'd base is a merged model, not the base");
    for (const r of [a, b, c]) {
      assert.equal(r.models[1]!.path, path.join(root, "base"));
      assert.deepEqual(r.models[1]!.lora, { path: path.join(root, "lora"), source: "./lora", hf: null });
    }
    assert.match(recipeToYaml(b, { paths: "as-written" }), /- model: \.\/base\+\.\/lora\n/);
    const again = parseRecipeYaml(recipeToYaml(a, { paths: "as-written" }), { recipeDir: root });
    assert.deepEqual(again.models, a.models);
    assert.match(parseError(TIES_LORA("./base+./lora").replace("./sft", "./base+./lora"), root).message, /same model as models\[0\]/);
  });

  it("base_model may carry a LoRA", (t) => {
    const root = tempDir(t);
    const r = parseRecipeYaml("merge_method: task_arithmetic\nbase_model: ./base+./lora\nmodels:\n  - model: ./base\n    parameters: {weight: 1}\n", { recipeDir: root });
    assert.equal(r.baseLora?.path, path.join(root, "lora"));
    assert.equal(r.models.length, 1, "./base differs from ./base+./lora");
  });
});

describe("tokenizer settings", () => {
  const TIES = "merge_method: ties\nbase_model: ./base\nmodels:\n  - model: ./sft\n    parameters: {weight: 1, density: 0.5}\n  - model: ./ct\n    parameters: {weight: 1, density: 0.5}\n";
  const p = (text: string, dir: string): Recipe => parseRecipeYaml(text, { recipeDir: dir });

  it("tokenizer_source: base | union | a model", (t) => {
    const root = tempDir(t);
    assert.deepEqual(p(`${TIES}tokenizer_source: union\n`, root).tokenizer, { key: "tokenizer_source", source: { kind: "union" }, tokens: [], padToMultipleOf: null });
    assert.deepEqual(p(`${TIES}tokenizer_source: base\n`, root).tokenizer?.source, { kind: "base" });
    assert.deepEqual(p(`${TIES}tokenizer_source: ./ct\n`, root).tokenizer?.source, { kind: "model", model: { path: path.join(root, "ct"), source: "./ct", lora: null } });
    assert.equal(p(TIES, root).tokenizer, null);
  });

  it("the tokenizer block: source defaults to union, tokens and pad_to_multiple_of; YAML round trip", (t) => {
    const root = tempDir(t);
    const text = `${TIES}tokenizer:\n  pad_to_multiple_of: 32\n  tokens:\n    <|im_start|>:\n      source: ./ct\n    <tool>:\n      source: {kind: model_token, model: ./sft, token: "<s>"}\n      force: true\n    <pad>:\n      source: {kind: zero}\n`;
    const r = p(text, root);
    assert.deepEqual(r.tokenizer?.source, { kind: "union" });
    assert.equal(r.tokenizer?.padToMultipleOf, 32);
    assert.deepEqual(r.tokenizer?.tokens.map((x) => [x.token, x.source?.kind, x.force]), [["<|im_start|>", "model", false], ["<tool>", "model_token", true], ["<pad>", "zero", false]]);
    const again = p(recipeToYaml(r, { paths: "as-written" }), root);
    assert.deepEqual(again.tokenizer, r.tokenizer);
  });

  it("refuses both keys, unknown token sources and models outside the merge", (t) => {
    const root = tempDir(t);
    assert.match(parseError(`${TIES}tokenizer_source: base\ntokenizer: {source: union}\n`, root).message, /either `tokenizer_source` or `tokenizer`, not both/);
    assert.match(parseError(`${TIES}tokenizer:\n  tokens:\n    x: {source: ./other}\n`, root).message, /tokenizer\.tokens\.x\.source.*not one of the merged models/);
    assert.match(parseError(`${TIES}tokenizer:\n  tokens:\n    x: {source: {kind: model_token, model: ./ct}}\n`, root).message, /exactly one of `token_id` and `token`/);
    assert.match(parseError(`${TIES}tokenizer:\n  pad_to_multiple_of: 0\n`, root).message, /tokenizer\.pad_to_multiple_of.*positive integer/);
    assert.match(parseError(`${TIES}tokenizer:\n  sourc: union\n`, root).message, /unknown key `sourc` \(supported here: source, tokens, pad_to_multiple_of\)/);
  });
});

describe("a merge of models named by Hugging Face id", { skip: nativeMergeSkipReason() }, () => {
  it("reads them from the cache, and the card and manifest name the ids, not local paths", async (t) => {
    const root = tempDir(t);
    const cache = path.join(root, "hub");
    const golden = caseDir("cli_linear_lora_bf16");
    for (const [id, role] of [["org/base", "base"], ["org/sft", "sft"], ["org/lora", "lora"]] as const) {
      const repo = path.join(cache, `models--${id.replace("/", "--")}`);
      mkdirSync(path.join(repo, "refs"), { recursive: true });
      writeFileSync(path.join(repo, "refs", "main"), COMMIT);
      cpSync(path.join(golden, "models", role), path.join(repo, "snapshots", COMMIT), { recursive: true });
    }
    const text = readFileSync(path.join(golden, "recipe.yml"), "utf8").replace("./models/sft", "org/sft").replace("./models/base+./models/lora", "org/base+org/lora");
    const recipe = parseRecipeYaml(text, { recipeDir: root, hfCacheDir: cache });
    const out = path.join(root, "out");
    await merge(recipe, out, { threads: 2 });
    assertTensorsMatch(loadCliCase("cli_linear_lora_bf16"), out, "expected.safetensors");
    const card = readFileSync(path.join(out, "README.md"), "utf8");
    assert.match(card, /^---\nbase_model:\n  - org\/sft\n  - org\/base\n  - org\/lora\n/);
    const manifestText = readFileSync(path.join(out, MANIFEST_FILE), "utf8");
    assert.ok(!manifestText.includes(root), "no local path in the manifest");
    const manifest = JSON.parse(manifestText) as OutputManifest;
    assert.deepEqual(manifest.inputs.map((i) => [i.source, i.hf?.id, i.hf?.commit, i.lora?.hf?.id ?? null]), [
      ["org/sft", "org/sft", COMMIT, null],
      ["org/base+org/lora", "org/base", COMMIT, "org/lora"],
    ]);
  });
});
