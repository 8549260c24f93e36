// Models page: registering from the local Hugging Face cache by id (through the allowed-roots
// check), the cache listing in models.roots, and the vocabulary size with the flag for CT
// models whose vocabulary differs from their base's.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { AppError } from "../../../server/errors";
import { resetEnvCache } from "../../../server/env";
import { createExperiment } from "../../../server/services/experiments/store";
import { listModels, modelRoots, registerModel } from "../../../server/services/models/registry";
import { freshModelEnv, tinyFamily } from "./helpers";

const env = freshModelEnv("ms-hf-vocab-");
const family = path.join(env.root, "family");
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const savedCache = process.env.HF_HUB_CACHE;
after(async () => {
  if (savedCache === undefined) delete process.env.HF_HUB_CACHE;
  else process.env.HF_HUB_CACHE = savedCache;
  await env.cleanup();
});

/** A hub cache at `cache` holding `id` (refs/main → COMMIT) with a copy of `from`. */
function cacheModel(cache: string, id: string, from: string): string {
  const repo = path.join(cache, `models--${id.replace("/", "--")}`);
  mkdirSync(path.join(repo, "refs"), { recursive: true });
  writeFileSync(path.join(repo, "refs", "main"), COMMIT);
  const snap = path.join(repo, "snapshots", COMMIT);
  cpSync(from, snap, { recursive: true });
  return snap;
}

function appError(code: string, re?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, code, err.message);
    if (re) assert.match(err.message, re);
    return true;
  };
}

before(() => {
  tinyFamily(family, 1);
  // A CT model whose vocabulary grew (config vocab_size 80 instead of 64).
  const cfg = JSON.parse(readFileSync(path.join(family, "ct-2B", "config.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(path.join(family, "ct-2B", "config.json"), JSON.stringify({ ...cfg, vocab_size: 80 }));
});

describe("registering from the Hugging Face cache", () => {
  it("registers org/name from a cache inside the allowed roots, named by its id", async () => {
    const cache = path.join(env.root, "hf", "hub");
    const snap = cacheModel(cache, "org/tiny-base", path.join(family, "base"));
    process.env.HF_HUB_CACHE = cache;
    const r = await registerModel({ path: "org/tiny-base", role: "OTHER" });
    assert.equal(r.model.name, "org/tiny-base");
    assert.equal(r.model.path, snap);
    const roots = await modelRoots();
    assert.equal(roots.hfCache.allowed, true);
    assert.deepEqual(roots.hfCache.models, [{ id: "org/tiny-base", revisions: ["main"] }]);
  });

  it("refuses a model missing from the cache (NOT_FOUND) and a cache outside the roots (PATH_NOT_ALLOWED)", async () => {
    await assert.rejects(registerModel({ path: "org/absent@v1" }), appError("NOT_FOUND", /org\/absent is not in the Hugging Face cache.*huggingface-cli download org\/absent --revision v1/));
    const outside = path.join(env.dir, "outside-hf", "hub");
    cacheModel(outside, "org/elsewhere", path.join(family, "base"));
    process.env.HF_HUB_CACHE = outside;
    await assert.rejects(registerModel({ path: "org/elsewhere" }), appError("PATH_NOT_ALLOWED", /outside the allowed model roots/));
    const roots = await modelRoots();
    assert.equal(roots.hfCache.allowed, false);
    assert.deepEqual(roots.hfCache.models, [], "the contents of a cache outside the roots are not listed");
    resetEnvCache();
  });
});

describe("vocabulary sizes", () => {
  it("records vocab_size and flags a CT model whose vocabulary differs from its base's", async () => {
    const base = await registerModel({ path: path.join(family, "base"), role: "BASE" });
    const sft = await registerModel({ path: path.join(family, "sft"), role: "SFT" });
    const ct = await registerModel({ path: path.join(family, "ct-2B"), role: "CT" });
    assert.equal(base.model.vocabSize, 64);
    assert.equal(ct.model.vocabSize, 80);
    // Same architecture, no experiment yet: compared with the BASE models.
    let byName = Object.fromEntries((await listModels()).map((m) => [m.name, m]));
    assert.deepEqual(byName["ct-2B"]!.vocabDiffers, { base: "base", baseVocabSize: 64 });
    assert.equal(byName["base"]!.vocabDiffers, null);
    // In an experiment: compared with that experiment's base.
    await createExperiment({ name: "ne", language: "nep", baseModelId: base.model.id, sftModelId: sft.model.id, ctModelIds: [ct.model.id] });
    byName = Object.fromEntries((await listModels()).map((m) => [m.name, m]));
    assert.deepEqual(byName["ct-2B"]!.vocabDiffers, { base: "base", baseVocabSize: 64 });
    assert.equal(byName["sft"]!.vocabDiffers, null, "only CT / CTSFT models are flagged");
  });
});
