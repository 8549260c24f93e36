import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { AppError } from "../../../server/errors";
import { db } from "../../../server/db/client";
import { merge } from "../../../server/engine/merge";
import { parseRecipeYaml } from "../../../server/engine/recipe";
import { deleteModel, inferRole, listModels, registerFolder, registerModel, updateModel } from "../../../server/services/models/registry";
import { freshModelEnv, tinyFamily } from "./helpers";

const env = freshModelEnv("ms-register-");
const family = path.join(env.root, "family");
const cts = path.join(env.root, "nepali-ct");
after(() => env.cleanup());

before(() => {
  tinyFamily(family, 3);
  // A folder of CT checkpoints as a training run leaves them: token counts in
  // trainer_state.json (ct-*), or only in the directory name.
  mkdirSync(cts);
  for (const ct of ["ct-2B", "ct-4B", "ct-6B"]) renameSync(path.join(family, ct), path.join(cts, ct));
  cpSync(path.join(cts, "ct-2B"), path.join(cts, "checkpoint-12.4B"), { recursive: true });
  writeFileSync(path.join(cts, "checkpoint-12.4B", "trainer_state.json"), JSON.stringify({ global_step: 10 }));
  writeFileSync(path.join(cts, "checkpoint-12.4B", "mergescope-synthetic.json"), JSON.stringify({ synthetic: false }));
  mkdirSync(path.join(cts, "logs")); // no weights: not a checkpoint
  mkdirSync(path.join(cts, "broken"));
  writeFileSync(path.join(cts, "broken", "model.safetensors"), Buffer.from([255, 255, 255, 255, 255, 255, 255, 127, 0]));
  const outside = path.join(env.dir, "outside-ct");
  cpSync(path.join(cts, "ct-2B"), outside, { recursive: true });
  symlinkSync(outside, path.join(cts, "ct-link-out"));
});

function appError(code: string, re?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, code, err.message);
    if (re) assert.match(err.message, re);
    return true;
  };
}

describe("registering models", () => {
  it("should detect architecture, parameters, dtype, shards, size and the synthetic marker", async () => {
    const r = await registerModel({ path: path.join(family, "base"), language: "eng" });
    const m = r.model;
    assert.equal(m.role, "BASE", "role from the synthetic marker");
    assert.equal(m.name, "base");
    assert.equal(m.path, path.join(family, "base"));
    assert.equal(m.architecture, "LlamaForCausalLM");
    assert.ok(m.parameterCount! > 1000);
    assert.equal(m.dtype, "BF16");
    assert.equal(m.shardCount, 1);
    assert.ok(m.sizeBytes! >= m.parameterCount! * 2);
    assert.equal(m.synthetic, true);
    assert.equal(m.ctTokens, null);
    assert.equal(m.language, "eng");
  });

  it("should take the role and token count as entered", async () => {
    const r = await registerModel({ path: path.join(family, "sft"), role: "SFT", name: "SFT-flan" });
    assert.equal(r.model.role, "SFT");
    assert.equal(r.model.name, "SFT-flan");
    await assert.rejects(registerModel({ path: path.join(family, "sft") }), appError("CONFLICT", /already registered as 'SFT-flan'/));
  });

  it("should refuse a token count for roles without continual training, and unreadable counts", async () => {
    await assert.rejects(
      registerModel({ path: path.join(cts, "ct-6B"), role: "BASE", ctTokens: "2B" }),
      appError("BAD_INPUT", /only applies to CT and CTSFT/),
    );
    await assert.rejects(registerModel({ path: path.join(cts, "ct-6B"), role: "CT", ctTokens: "two" }), appError("BAD_INPUT", /like 2B/));
    const r = await registerModel({ path: path.join(cts, "ct-6B"), role: "CT", ctTokens: "6.5B", language: "nep" });
    assert.equal(r.model.ctTokens, 6.5e9);
    assert.equal(r.tokensSource, "entered");
    await deleteModel(r.model.id);
  });

  it("should map engine failures to ENGINE with the engine's code", async () => {
    await assert.rejects(registerModel({ path: path.join(cts, "broken"), role: "CT" }), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, "ENGINE");
      assert.match(err.engineCode ?? "", /^ST_/);
      assert.match(err.message, /broken/);
      return true;
    });
    await assert.rejects(registerModel({ path: path.join(cts, "logs") }), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.engineCode, "MODEL_NOT_FOUND");
      return true;
    });
  });

  it("should refuse paths outside the allowed roots", async () => {
    await assert.rejects(registerModel({ path: path.join(cts, "ct-link-out") }), appError("PATH_NOT_ALLOWED", /outside the allowed model roots/));
    await assert.rejects(registerModel({ path: `${env.root}/../outside-ct` }), appError("PATH_NOT_ALLOWED"));
  });

  it("should register a folder of CT checkpoints and report each failure without stopping", async () => {
    const r = await registerFolder({ path: cts, language: "nep", tokensPerStep: 1 });
    const byName = Object.fromEntries(r.entries.map((e) => [e.name, e]));
    assert.deepEqual(Object.keys(byName).sort(), ["broken", "checkpoint-12.4B", "ct-2B", "ct-4B", "ct-6B", "ct-link-out"]);
    assert.equal(byName["ct-2B"]!.status, "registered");
    assert.equal(byName["ct-2B"]!.model!.ctTokens, 2e9);
    assert.match(byName["ct-2B"]!.tokensSource!, /trainer_state\.json/);
    assert.equal(byName["ct-4B"]!.model!.ctTokens, 4e9);
    assert.equal(byName["ct-6B"]!.model!.role, "CT");
    assert.equal(byName["ct-6B"]!.model!.language, "nep");
    // global_step 10 × 1 token per step wins over the directory name
    assert.equal(byName["checkpoint-12.4B"]!.model!.ctTokens, 10);
    assert.equal(byName["checkpoint-12.4B"]!.model!.synthetic, false);
    assert.equal(byName["broken"]!.status, "failed");
    assert.match(byName["broken"]!.code!, /^ST_/);
    assert.equal(byName["ct-link-out"]!.status, "failed");
    assert.equal(byName["ct-link-out"]!.code, "PATH_NOT_ALLOWED");
    assert.deepEqual([r.registered, r.skipped, r.failed], [4, 0, 2]);
    // ordered by tokens
    assert.deepEqual(
      r.entries.filter((e) => e.model).map((e) => e.name),
      ["checkpoint-12.4B", "ct-2B", "ct-4B", "ct-6B"],
    );

    const again = await registerFolder({ path: cts });
    assert.equal(again.registered, 0);
    assert.equal(again.skipped, 4, "already registered checkpoints are skipped");
  });

  it("should fall back to the directory name when trainer_state has no tokens", async () => {
    const dir = path.join(env.root, "more", "run-800M");
    cpSync(path.join(cts, "ct-2B"), dir, { recursive: true });
    writeFileSync(path.join(dir, "trainer_state.json"), JSON.stringify({ global_step: 10 }));
    writeFileSync(path.join(dir, "mergescope-synthetic.json"), "{}");
    const r = await registerModel({ path: dir, role: "CT" });
    assert.equal(r.model.ctTokens, 8e8);
    assert.match(r.tokensSource!, /directory name/);
    assert.ok(r.warnings.some((w) => /tokens per step/.test(w)));
  });

  it("should refuse a folder without checkpoint subdirectories", async () => {
    await assert.rejects(registerFolder({ path: path.join(cts, "logs") }), appError("BAD_INPUT", /no subdirectory/));
    await assert.rejects(registerFolder({ path: path.join(env.dir, "outside-ct") }), appError("PATH_NOT_ALLOWED"));
  });

  it("should list with filters, update and delete", async () => {
    const ne = await listModels({ language: "nep" });
    assert.ok(ne.length >= 4 && ne.every((m) => m.language === "nep"));
    const ctsOnly = await listModels({ role: ["CT"] });
    assert.deepEqual(
      ctsOnly.map((m) => m.ctTokens),
      [...ctsOnly.map((m) => m.ctTokens)].sort((a, b) => (a ?? -1) - (b ?? -1)),
    );
    const found = await listModels({ search: "checkpoint-12" });
    assert.equal(found.length, 1);
    const m = found[0]!;
    const u = await updateModel({ id: m.id, ctTokens: "12.4B", name: "CT 12.4B" });
    assert.equal(u.ctTokens, 12.4e9);
    assert.equal(u.name, "CT 12.4B");
    const other = await updateModel({ id: m.id, role: "OTHER" });
    assert.equal(other.ctTokens, null, "leaving a CT role drops the count");
    await assert.rejects(updateModel({ id: m.id, ctTokens: "1B" }), appError("BAD_INPUT"));
    await deleteModel(m.id);
    await assert.rejects(deleteModel(m.id), appError("NOT_FOUND"));
  });

  it("should infer roles from names when there is no marker", () => {
    assert.equal(inferRole(null, "llama-2-7b-base"), "BASE");
    assert.equal(inferRole(null, "sft-flan"), "SFT");
    assert.equal(inferRole(null, "checkpoint-12.4B"), "CT");
    assert.equal(inferRole(null, "ct-2B-sft"), "CTSFT");
    assert.equal(inferRole(null, "mystery"), "OTHER");
    assert.equal(inferRole("ct", "whatever"), "CT");
    assert.equal(inferRole(null, "ties-checkpoint-1280-1a2b", true), "MERGED");
  });

  it("should register a MergeScope merge output as MERGED from its manifest, whatever its name", async () => {
    const recipe = parseRecipeYaml(
      `merge_method: ties\nbase_model: ./base\nmodels:\n  - model: ./sft\n    parameters: {weight: 1, density: 0.5}\n`,
      { recipeDir: family },
    );
    const out = path.join(env.root, "ties-checkpoint-1280-1a2b");
    await merge(recipe, out);
    const r = await registerModel({ path: out });
    assert.equal(r.model.role, "MERGED");
    // Its lineage and identity come from the manifest: method, inputs as the recipe wrote them, digests.
    const manifest = JSON.parse(readFileSync(path.join(out, "mergescope-manifest.json"), "utf8")) as { outputSha256: string; recipeSha256: string; recipeYaml: string };
    assert.deepEqual(r.model.lineage, {
      method: "ties",
      inputs: [
        { role: "base", source: "./base" },
        { role: "model", source: "./sft" },
      ],
      recipeYaml: manifest.recipeYaml,
      engineVersion: r.model.lineage!.engineVersion,
    });
    assert.match(r.model.lineage!.engineVersion ?? "", /^\d+\.\d+\.\d+/);
    const row = await (await db()).model.findUniqueOrThrow({ where: { id: r.model.id } });
    assert.equal(row.outputSha256, manifest.outputSha256);
    assert.equal(row.recipeSha256, manifest.recipeSha256);
  });
});
