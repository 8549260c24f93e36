// Output directory handling without the native engine: a fake staging directory stands in
// for the engine's shards. Checks the copied files, config dtype, model card, manifest
// hashes, atomicity (failures and cancellation leave nothing), overwrite rules and the sweep.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import {
  EngineError,
  MANIFEST_FILE,
  finalizeOutput,
  hostToken,
  outputSha256,
  parseByteSize,
  prepareStaging,
  sweepStaleStaging,
  MERGEKIT_CONFIG_FILE,
  outputConfigJson,
  recipeSha256,
  TRANSFORMERS_VERSION,
  verifyOutput,
  type OutputManifest,
} from "@/server/engine/output";
import { parseRecipeYaml } from "@/server/engine/recipe";
import type { NativeMergeResult } from "@/server/engine/types";
import { tempDir } from "./helpers";

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

interface Setup {
  root: string;
  baseDir: string;
  outDir: string;
  recipe: ReturnType<typeof parseRecipeYaml>;
}

function setup(t: { after(fn: () => void): void }): Setup {
  const root = tempDir(t);
  const baseDir = path.join(root, "models", "base");
  mkdirSync(baseDir, { recursive: true });
  mkdirSync(path.join(root, "models", "sft"));
  // Not a model type MergeScope normalises like transformers: written back as read.
  writeFileSync(
    path.join(baseDir, "config.json"),
    '{\n  "architectures": ["LlamaForCausalLM"],\n  "torch_dtype": "float32",\n  "dtype": "float32",\n  "rope_theta": 10000.0,\n  "rms_norm_eps": 1e-05,\n  "text_config": {"torch_dtype": "float32", "hidden_size": 8}\n}\n',
  );
  for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "chat_template.jinja"]) {
    writeFileSync(path.join(baseDir, f), `{"file": "${f}"}`);
  }
  writeFileSync(path.join(baseDir, "trainer_state.json"), "{}"); // not a tokenizer file: not copied
  writeFileSync(path.join(baseDir, "model.safetensors"), "base weights");
  const recipe = parseRecipeYaml(
    "merge_method: ties\nbase_model: models/base\nmodels:\n  - model: models/sft\n    parameters: {weight: 1, density: 0.2}\n  - model: models/ct\n    parameters: {weight: 0.5}\nout_dtype: bfloat16\n",
    { recipeDir: root },
  );
  return { root, baseDir, outDir: path.join(root, "out", "merged"), recipe };
}

/** What the engine leaves in staging: shards (+ index) and its result describing them. */
function fakeEngineOutput(stagingDir: string, shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]): NativeMergeResult {
  const files = shards.map((filename, i) => {
    const data = Buffer.from(`shard ${i} bytes`.repeat(10 + i));
    writeFileSync(path.join(stagingDir, filename), data);
    return { filename, bytes: data.length, sha256: sha256(data) };
  });
  const indexFile = shards.length > 1 ? "model.safetensors.index.json" : null;
  if (indexFile) writeFileSync(path.join(stagingDir, indexFile), JSON.stringify({ weight_map: { a: shards[0], b: shards[1] } }));
  const modelStats = { weight: 1, density: 1, trimmed: false, k: 4, threshold: null, nGreaterThanThreshold: 0, nEqualToThreshold: 0, nKeptAtThreshold: 0, nnzTrimmed: 4, discarded: 1, discardedL1: 0.5, rescued: 0, contributing: 3, inConflict: 1, conflictsWon: 0, nTopRemoved: 0, topThreshold: null, rescaleFactor: null, randomFirstDraw: null, randomDraws: 0, keepProbabilityMin: null, keepProbabilityMax: null };
  return {
    tensors: [
      { name: "model.layers.0.self_attn.q_proj.weight", shape: [2, 2], dtype: "BF16", numel: 4, rowCut: false, signConflicts: 1, noContributor: 0, majorityNegative: 2, svCandidates: 0, svReserved: 0, interpolationT: null, models: [modelStats, modelStats] },
    ],
    shards: files,
    indexFile,
    warnings: [],
    bytesRead: 100,
    bytesWritten: files.reduce((a, f) => a + f.bytes, 0),
    seconds: 0.1,
    slackBudget: null,
    sweep: null,
  };
}

const stagingDirsIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n.includes(".staging-") || n.includes(".replaced-")) : []);

async function rejectsWithCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: EngineError) => {
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe("prepareStaging", () => {
  it("creates a hidden staging folder next to the destination (creating missing parents)", async (t) => {
    const { outDir } = setup(t);
    const staging = await prepareStaging(outDir);
    assert.equal(path.dirname(staging), path.dirname(outDir));
    assert.match(path.basename(staging), new RegExp(`^\\.merged\\.staging-h${hostToken()}-${process.pid}-[0-9a-f]{8}$`));
    assert.ok(existsSync(staging));
    assert.ok(!existsSync(outDir));
  });

  it("refuses an existing destination (OUT_EXISTS) unless overwrite, and never replaces a foreign folder", async (t) => {
    const { outDir } = setup(t);
    mkdirSync(outDir, { recursive: true });
    await rejectsWithCode(prepareStaging(outDir), "OUT_EXISTS", /already exists; choose another one or pass overwrite/);
    // empty: may be replaced
    const staging = await prepareStaging(outDir, { overwrite: true });
    assert.ok(existsSync(staging));
    writeFileSync(path.join(outDir, "precious.txt"), "do not delete");
    await rejectsWithCode(prepareStaging(outDir, { overwrite: true }), "OUT_EXISTS", /not a MergeScope output .*refusing to replace it/);
  });

  it("fails with OUT_IO when the parent cannot be created", async (t) => {
    const { root } = setup(t);
    writeFileSync(path.join(root, "a-file"), "x");
    await rejectsWithCode(prepareStaging(path.join(root, "a-file", "out")), "OUT_IO", /cannot create .*a-file \(parent of the output directory\)/);
  });

  it("refuses a parent folder it cannot write to", { skip: process.getuid?.() === 0 ? "running as root: permission bits are not enforced" : false }, async (t) => {
    const { root } = setup(t);
    const locked = path.join(root, "locked");
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    t.after(() => chmodSync(locked, 0o755));
    await rejectsWithCode(prepareStaging(path.join(locked, "out")), "OUT_IO", /cannot write to .*locked/);
  });
});

describe("finalizeOutput", () => {
  it("builds a complete model directory with one rename", async (t) => {
    const { root, baseDir, outDir, recipe } = setup(t);
    const stagingDir = await prepareStaging(outDir);
    const result = fakeEngineOutput(stagingDir);
    const done = await finalizeOutput({ stagingDir, outDir, baseModelPath: baseDir, recipe, result, outDtype: "BF16", engineVersion: "9.9.9" });

    assert.equal(done.outDir, outDir);
    assert.ok(!existsSync(stagingDir), "staging folder is gone");
    assert.deepEqual(stagingDirsIn(path.join(root, "out")), []);
    const files = readdirSync(outDir).sort();
    assert.deepEqual(files, [
      "README.md",
      "chat_template.jinja",
      "config.json",
      "generation_config.json",
      MANIFEST_FILE,
      MERGEKIT_CONFIG_FILE,
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
      "model.safetensors.index.json",
      "special_tokens_map.json",
      "tokenizer.json",
      "tokenizer_config.json",
    ].sort());

    const configText = readFileSync(path.join(outDir, "config.json"), "utf8");
    const config = JSON.parse(configText);
    assert.equal(config.torch_dtype, "bfloat16");
    assert.equal(config.dtype, "bfloat16");
    assert.equal(config.text_config.torch_dtype, "bfloat16");
    assert.deepEqual(config.architectures, ["LlamaForCausalLM"]);
    // Key order and number text as read (not 10000 / 0.00001), no key added.
    assert.deepEqual(Object.keys(config), ["architectures", "torch_dtype", "dtype", "rope_theta", "rms_norm_eps", "text_config"]);
    assert.match(configText, /"rope_theta": 10000\.0,\n  "rms_norm_eps": 1e-05,/);
    assert.equal(readFileSync(path.join(outDir, MERGEKIT_CONFIG_FILE), "utf8"), recipe.sourceText);
    assert.equal(readFileSync(path.join(outDir, "tokenizer.json"), "utf8"), '{"file": "tokenizer.json"}');

    const manifest = JSON.parse(readFileSync(path.join(outDir, MANIFEST_FILE), "utf8")) as OutputManifest;
    assert.equal(manifest.version, 2);
    assert.equal(manifest.engineVersion, "9.9.9");
    assert.equal(manifest.outDtype, "BF16");
    assert.match(manifest.recipeYaml, /merge_method: ties\nbase_model: models\/base\n/);
    assert.equal(manifest.recipeSha256, recipeSha256(recipe));
    assert.deepEqual(manifest.inputs.map((i) => [i.role, i.source]), [["base", "models/base"], ["model", "models/sft"], ["model", "models/ct"]]);
    assert.ok(!readFileSync(path.join(outDir, MANIFEST_FILE), "utf8").includes(root), "no absolute path of this machine in the manifest");
    assert.ok(!Number.isNaN(Date.parse(manifest.createdAt)));
    assert.deepEqual(manifest.files.map((f) => f.path), files.filter((f) => f !== MANIFEST_FILE));
    for (const f of manifest.files) {
      const data = readFileSync(path.join(outDir, f.path));
      assert.equal(f.bytes, data.length, f.path);
      assert.equal(f.sha256, sha256(data), f.path);
    }
    const lines = manifest.files.map((f) => `${f.path} ${f.sha256}\n`).join("");
    assert.equal(manifest.outputSha256, sha256(lines));
    assert.equal(done.outputSha256, manifest.outputSha256);
    assert.equal(outputSha256([...manifest.files].reverse()), manifest.outputSha256, "order-independent");

    const card = readFileSync(path.join(outDir, "README.md"), "utf8");
    assert.match(card, /^---\nbase_model: \[\]\nlibrary_name: transformers\ntags:\n  - merge\n  - mergekit\n  - mergescope\n---\n/);
    assert.match(card, /```yaml\nmerge_method: ties\nbase_model: models\/base\n[\s\S]*out_dtype: bfloat16\n```/);
    assert.match(card, /\| sft \| 1 \| 0\.2 \| 4 \| 1 \| 25\.00% \| 0 \|/);
    assert.match(card, /Sign conflicts: 1 of 4 positions/);
    assert.match(card, /made with MergeScope/);

    const verified = await verifyOutput(outDir);
    assert.deepEqual(verified, { ok: true, outputSha256: manifest.outputSha256, checked: manifest.files.length, problems: [] });
  });

  it("names inputs given by absolute path by their folder name only (card, manifest, mergekit_config.yml)", async (t) => {
    const { root, baseDir, outDir } = setup(t);
    const text = `merge_method: ties\nbase_model: ${baseDir}\nmodels:\n  - model: ${path.join(root, "models", "sft")}\n    parameters: {weight: 1, density: 0.2}\n  - model: ${path.join(root, "models", "ct")}\n    parameters: {weight: 0.5}\n`;
    const recipe = parseRecipeYaml(text, { recipeDir: "/elsewhere" });
    const stagingDir = await prepareStaging(outDir);
    const result = fakeEngineOutput(stagingDir);
    result.warnings.push(`tensor 'x' of ${path.join(root, "models", "sft")} cut from [2] to the base's [1]`);
    await finalizeOutput({ stagingDir, outDir, baseModelPath: baseDir, recipe, result, outDtype: "BF16" });
    for (const f of ["README.md", MANIFEST_FILE, MERGEKIT_CONFIG_FILE]) {
      const content = readFileSync(path.join(outDir, f), "utf8");
      assert.ok(!content.includes(root), `${f} names a local folder:\n${content}`);
    }
    assert.equal(readFileSync(path.join(outDir, MERGEKIT_CONFIG_FILE), "utf8"), text.replaceAll(`${root}/models/`, ""));
    const manifest = JSON.parse(readFileSync(path.join(outDir, MANIFEST_FILE), "utf8")) as OutputManifest;
    assert.deepEqual(manifest.inputs.map((i) => i.source), ["base", "sft", "ct"]);
    assert.match(readFileSync(path.join(outDir, "README.md"), "utf8"), /> Warning: tensor 'x' of sft cut/);
  });

  it("verifyOutput reports changed, missing and extra files", async (t) => {
    const { baseDir, outDir, recipe } = setup(t);
    const stagingDir = await prepareStaging(outDir);
    await finalizeOutput({ stagingDir, outDir, baseModelPath: baseDir, recipe, result: fakeEngineOutput(stagingDir), outDtype: "BF16" });
    writeFileSync(path.join(outDir, "tokenizer.json"), '{"file": "tokenizer.jsoN"}'); // same size, other bytes
    writeFileSync(path.join(outDir, "config.json"), "{}");
    writeFileSync(path.join(outDir, "notes.txt"), "added later");
    rmSync(path.join(outDir, "chat_template.jinja"));
    const v = await verifyOutput(outDir);
    assert.equal(v.ok, false);
    assert.deepEqual(
      v.problems.map((p) => [p.path, p.problem]).sort(),
      [
        ["chat_template.jinja", "missing"],
        ["config.json", "size"],
        ["notes.txt", "extra"],
        ["tokenizer.json", "sha256"],
      ],
    );
    await rejectsWithCode(verifyOutput(path.dirname(outDir)), "MANIFEST_INVALID");
  });

  it("takes the dtype from the result when the request had none, and copies nothing from a .safetensors base", async (t) => {
    const { baseDir, outDir, recipe } = setup(t);
    const stagingDir = await prepareStaging(outDir);
    const result = fakeEngineOutput(stagingDir, ["model.safetensors"]);
    const done = await finalizeOutput({ stagingDir, outDir, baseModelPath: path.join(baseDir, "model.safetensors"), recipe, result, outDtype: null });
    assert.equal(done.manifest.outDtype, "BF16");
    assert.deepEqual(readdirSync(outDir).sort(), ["README.md", MERGEKIT_CONFIG_FILE, MANIFEST_FILE, "model.safetensors"].sort());
  });

  it("a failure before the rename leaves nothing at outDir and removes staging", async (t) => {
    const { root, baseDir, outDir, recipe } = setup(t);
    const stagingDir = await prepareStaging(outDir);
    const result = fakeEngineOutput(stagingDir);
    result.shards.push({ filename: "model-00003-of-00003.safetensors", bytes: 10, sha256: "00" });
    await rejectsWithCode(finalizeOutput({ stagingDir, outDir, baseModelPath: baseDir, recipe, result, outDtype: "BF16" }), "OUT_IO", /model-00003-of-00003\.safetensors .*does not exist/);
    assert.ok(!existsSync(outDir));
    assert.ok(!existsSync(stagingDir));
    assert.deepEqual(stagingDirsIn(path.join(root, "out")), []);
  });

  it("a shard whose size differs from the engine's report fails the same way", async (t) => {
    const { baseDir, outDir, recipe } = setup(t);
    const stagingDir = await prepareStaging(outDir);
    const result = fakeEngineOutput(stagingDir);
    result.shards[0]!.bytes += 1;
    await rejectsWithCode(finalizeOutput({ stagingDir, outDir, baseModelPath: baseDir, recipe, result, outDtype: "BF16" }), "OUT_IO", /has \d+ bytes but the engine wrote/);
    assert.ok(!existsSync(outDir) && !existsSync(stagingDir));
  });

  it("an invalid base config.json fails with MODEL_CONFIG_INVALID and leaves nothing", async (t) => {
    const { baseDir, outDir, recipe } = setup(t);
    writeFileSync(path.join(baseDir, "config.json"), "{not json");
    const stagingDir = await prepareStaging(outDir);
    await rejectsWithCode(
      finalizeOutput({ stagingDir, outDir, baseModelPath: baseDir, recipe, result: fakeEngineOutput(stagingDir), outDtype: "BF16" }),
      "MODEL_CONFIG_INVALID",
      /config\.json is not valid JSON/,
    );
    assert.ok(!existsSync(outDir) && !existsSync(stagingDir));
  });

  it("cancellation (aborted signal) leaves nothing", async (t) => {
    const { baseDir, outDir, recipe } = setup(t);
    const stagingDir = await prepareStaging(outDir);
    const controller = new AbortController();
    controller.abort();
    await rejectsWithCode(
      finalizeOutput({ stagingDir, outDir, baseModelPath: baseDir, recipe, result: fakeEngineOutput(stagingDir), outDtype: "BF16", signal: controller.signal }),
      "CANCELLED",
    );
    assert.ok(!existsSync(outDir) && !existsSync(stagingDir));
  });

  it("OUT_EXISTS when the destination appeared during the merge; overwrite replaces an earlier output", async (t) => {
    const { root, baseDir, outDir, recipe } = setup(t);
    const first = await prepareStaging(outDir);
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, "someone-elses.txt"), "x");
    await rejectsWithCode(finalizeOutput({ stagingDir: first, outDir, baseModelPath: baseDir, recipe, result: fakeEngineOutput(first), outDtype: "BF16" }), "OUT_EXISTS");
    assert.ok(!existsSync(first));
    assert.deepEqual(readdirSync(outDir), ["someone-elses.txt"]);

    rmSync(outDir, { recursive: true });
    const s1 = await prepareStaging(outDir);
    const old = await finalizeOutput({ stagingDir: s1, outDir, baseModelPath: baseDir, recipe, result: fakeEngineOutput(s1), outDtype: "BF16" });
    const s2 = await prepareStaging(outDir, { overwrite: true });
    const fresh = await finalizeOutput({ stagingDir: s2, outDir, baseModelPath: baseDir, recipe, result: fakeEngineOutput(s2, ["model.safetensors"]), outDtype: "BF16", overwrite: true });
    assert.notEqual(fresh.outputSha256, old.outputSha256);
    assert.ok(!existsSync(path.join(outDir, "model-00001-of-00002.safetensors")), "old shards are gone");
    assert.ok(existsSync(path.join(outDir, "model.safetensors")));
    assert.deepEqual(stagingDirsIn(path.join(root, "out")), []);
    assert.equal((await verifyOutput(outDir)).ok, true);
  });
});

describe("sweepStaleStaging", () => {
  it("removes staging folders of dead processes, keeps live ones, repairs interrupted overwrites", async (t) => {
    const dir = tempDir(t);
    const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const deadPid = Number(child.stdout);
    assert.ok(deadPid > 0);
    const make = (name: string, file = "x") => {
      mkdirSync(path.join(dir, name));
      writeFileSync(path.join(dir, name, file), "data");
    };
    make(`.m1.staging-${deadPid}-0a1b2c3d`);
    make(`.m2.staging-${process.pid}-0a1b2c3d`); // ours: alive
    make(`.m3.replaced-${deadPid}-deadbeef`, "old-output"); // m3 missing: restore
    make("m4");
    make(`.m4.replaced-${deadPid}-deadbeef`); // m4 present: the replacement landed
    make(`.m5.staging-h${hostToken()}-${deadPid}-0a1b2c3d`); // this host, dead: removed
    make(`.m6.staging-hother_host-${deadPid}-0a1b2c3d`); // another host's merge: its pid means nothing here
    make(`.m7.replaced-hother_host-${deadPid}-deadbeef`);
    make(".not-staging");
    make("plain-model");

    const result = await sweepStaleStaging(dir);
    assert.deepEqual(
      result.removed.sort(),
      [path.join(dir, `.m1.staging-${deadPid}-0a1b2c3d`), path.join(dir, `.m4.replaced-${deadPid}-deadbeef`), path.join(dir, `.m5.staging-h${hostToken()}-${deadPid}-0a1b2c3d`)].sort(),
    );
    assert.deepEqual(result.restored, [path.join(dir, "m3")]);
    assert.deepEqual(
      readdirSync(dir).sort(),
      [`.m2.staging-${process.pid}-0a1b2c3d`, `.m6.staging-hother_host-${deadPid}-0a1b2c3d`, `.m7.replaced-hother_host-${deadPid}-deadbeef`, ".not-staging", "m3", "m4", "plain-model"].sort(),
    );
    assert.ok(existsSync(path.join(dir, "m3", "old-output")));
    assert.deepEqual(await sweepStaleStaging(path.join(dir, "does-not-exist")), { removed: [], restored: [] });
  });
});

describe("small helpers", () => {
  it("outputConfigJson keeps an unknown config's text and changes only the given values", () => {
    const text = '{\n    "model_type": "mystery",\n    "vocab_size": 64,\n    "rope_theta": 10000.0,\n    "eps": 1e-05,\n    "big": 1000000000000000019884624838656,\n    "torch_dtype": "float32"\n}';
    const out = outputConfigJson(text, { dtype: "bfloat16", vocabSize: 80 });
    assert.equal(out.mode, "preserved");
    assert.equal(out.text, text.replace('"vocab_size": 64', '"vocab_size": 80').replace('"torch_dtype": "float32"', '"torch_dtype": "bfloat16"'));
    assert.equal(outputConfigJson(text, { dtype: null }).text, text);
  });

  it("outputConfigJson normalises llama configs like transformers 5.18", () => {
    const out = outputConfigJson(
      '{"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_attention_heads": 8, "rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3", "factor": 8.0}, "torch_dtype": "bfloat16", "temperature": 0.6, "_name_or_path": "/home/me/x"}',
      { dtype: null },
    );
    assert.equal(out.mode, "transformers");
    const c = JSON.parse(out.text);
    assert.equal(c.dtype, "bfloat16");
    assert.equal(c.torch_dtype, undefined);
    assert.deepEqual(c.rope_parameters, { factor: 8, rope_theta: 500000, rope_type: "llama3" });
    assert.equal(c.head_dim, 8);
    assert.equal(c.num_key_value_heads, 8);
    assert.equal(c.transformers_version, TRANSFORMERS_VERSION);
    for (const k of ["temperature", "_name_or_path", "rope_theta", "rope_scaling", "return_dict"]) assert.ok(!(k in c), k);
    assert.deepEqual(Object.keys(c), [...Object.keys(c)].sort());
    assert.match(out.text, /^\{\n "architectures": \[\n  "LlamaForCausalLM"\n \],\n/);
    assert.match(out.text, /"rms_norm_eps": 1e-06,/);
    assert.match(out.text, /"factor": 8\.0,\n  "rope_theta": 500000\.0,/);
  });

  it("parseByteSize understands HF-style sizes", () => {
    assert.equal(parseByteSize("5GB"), 5e9);
    assert.equal(parseByteSize("500MB"), 5e8);
    assert.equal(parseByteSize("1.5 gb"), 1.5e9);
    assert.equal(parseByteSize("2GiB"), 2 * 2 ** 30);
    assert.equal(parseByteSize("123456"), 123456);
    assert.equal(parseByteSize("10kB"), 10000);
    for (const bad of ["", "five", "5XB", "-1", "0", "1e9"]) assert.throws(() => parseByteSize(bad), /expected a size/, bad);
  });
});
