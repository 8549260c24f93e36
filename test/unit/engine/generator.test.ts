import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openCheckpoint } from "@/test/support/safetensors";
import { measureSftConflicts, type CheckpointConflicts } from "@/test/support/synthetic-conflicts";
import { generateModelFamily, type ModelFamily, type ModelFamilyOptions } from "@/server/engine/synthetic/family";

const SHAPE = { hidden: 64, layers: 2, intermediate: 172, vocab: 256, heads: 4, kvHeads: 2 };
const DEFAULTS = { ...SHAPE, ctCheckpoints: 6, tokensPerCheckpoint: 2, dtype: "bf16", seed: 1 } as const;

let root: string;
let family: ModelFamily;
let conflicts: CheckpointConflicts[];

function generate(name: string, extra: Partial<ModelFamilyOptions> = {}): ModelFamily {
  return generateModelFamily({ ...DEFAULTS, out: path.join(root, name), ...extra });
}

function json(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
}

before(() => {
  root = mkdtempSync(path.join(tmpdir(), "mergescope-family-"));
  family = generate("default");
  conflicts = measureSftConflicts(family.out);
});
after(() => rmSync(root, { recursive: true, force: true }));

test("family layout: base, sft, ct-2B .. ct-12B with HF files and synthetic markers", () => {
  assert.deepEqual(readdirSync(family.out).sort(), ["base", "ct-10B", "ct-12B", "ct-2B", "ct-4B", "ct-6B", "ct-8B", "sft"]);
  for (const m of family.members) {
    const files = readdirSync(m.dir).sort();
    const expected = ["config.json", "generation_config.json", "mergescope-synthetic.json", "model.safetensors", "special_tokens_map.json", "tokenizer_config.json"];
    assert.deepEqual(files, m.role === "ct" ? [...expected, "trainer_state.json"].sort() : expected, m.name);
    const config = json(path.join(m.dir, "config.json"));
    assert.deepEqual(config.architectures, ["LlamaForCausalLM"]);
    assert.equal(config.model_type, "llama");
    assert.equal(config.torch_dtype, "bfloat16");
    assert.equal(config.tie_word_embeddings, false);
    assert.deepEqual(
      [config.hidden_size, config.intermediate_size, config.num_hidden_layers, config.num_attention_heads, config.num_key_value_heads, config.vocab_size],
      [64, 172, 2, 4, 2, 256],
    );
    assert.deepEqual(json(path.join(m.dir, "mergescope-synthetic.json")).synthetic, true);
    assert.equal(json(path.join(m.dir, "mergescope-synthetic.json")).role, m.role);
  }
  const ct4 = family.members.find((m) => m.name === "ct-4B")!;
  assert.equal(json(path.join(ct4.dir, "trainer_state.json")).num_input_tokens_seen, 4e9);
  assert.equal(json(path.join(ct4.dir, "mergescope-synthetic.json")).tokensB, 4);
});

test("tensor names and shapes are exactly Hugging Face Llama's (GQA: k/v have kv-heads * head_dim rows)", () => {
  const ckpt = openCheckpoint(path.join(family.out, "sft"));
  const shapes = Object.fromEntries(ckpt.tensorNames().map((n) => [n, ckpt.info(n).shape]));
  const expected: Record<string, number[]> = { "model.embed_tokens.weight": [256, 64] };
  for (const l of [0, 1]) {
    Object.assign(expected, {
      [`model.layers.${l}.self_attn.q_proj.weight`]: [64, 64],
      [`model.layers.${l}.self_attn.k_proj.weight`]: [32, 64],
      [`model.layers.${l}.self_attn.v_proj.weight`]: [32, 64],
      [`model.layers.${l}.self_attn.o_proj.weight`]: [64, 64],
      [`model.layers.${l}.mlp.gate_proj.weight`]: [172, 64],
      [`model.layers.${l}.mlp.up_proj.weight`]: [172, 64],
      [`model.layers.${l}.mlp.down_proj.weight`]: [64, 172],
      [`model.layers.${l}.input_layernorm.weight`]: [64],
      [`model.layers.${l}.post_attention_layernorm.weight`]: [64],
    });
  }
  Object.assign(expected, { "model.norm.weight": [64], "lm_head.weight": [256, 64] });
  assert.deepEqual(shapes, expected);
  assert.ok(ckpt.tensorNames().every((n) => ckpt.info(n).dtype === "BF16"));
  assert.equal(family.parameterCount, Object.values(expected).reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0));
});

test("realistic statistics: base ~ N(0, 0.02), norms ~ 1, SFT deltas small and heavy-tailed", () => {
  const base = openCheckpoint(path.join(family.out, "base"));
  const sft = openCheckpoint(path.join(family.out, "sft"));
  const w = base.readFloat32("model.layers.0.mlp.up_proj.weight");
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(std - 0.02) < 0.001, `std ${std}`);
  const norm = base.readFloat32("model.norm.weight");
  assert.ok(Math.abs(norm.reduce((s, v) => s + v, 0) / norm.length - 1) < 0.01);
  const s = sft.readFloat32("model.layers.0.mlp.up_proj.weight");
  const delta = s.map((v, i) => v - w[i]!);
  const m2 = delta.reduce((a, v) => a + v * v, 0) / delta.length;
  const m4 = delta.reduce((a, v) => a + v ** 4, 0) / delta.length;
  assert.ok(Math.sqrt(m2) > 5e-4 && Math.sqrt(m2) < 3e-3, `sft delta rms ${Math.sqrt(m2)}`);
  assert.ok(m4 / m2 ** 2 > 4, `kurtosis ${m4 / m2 ** 2} (normal = 3, Laplace = 6)`);
  const zeros = delta.filter((v) => v === 0).length / delta.length;
  assert.ok(zeros > 0.02 && zeros < 0.5, `share of SFT deltas rounded away by bf16: ${zeros}`);
});

test("deterministic from the seed; sharding changes files, not values", () => {
  const again = generate("again");
  const other = generate("other-seed", { seed: 2 });
  const sharded = generate("sharded", { shardSize: 40_000 });
  const bytes = (f: ModelFamily, name: string) => readFileSync(path.join(f.out, name, "model.safetensors"));
  for (const m of family.members) assert.ok(bytes(again, m.name).equals(bytes(family, m.name)), m.name);
  assert.ok(!bytes(other, "sft").equals(bytes(family, "sft")));

  assert.ok(sharded.shardFiles.length > 1);
  const dir = path.join(sharded.out, "ct-6B");
  const index = json(path.join(dir, "model.safetensors.index.json")) as { weight_map: Record<string, string> };
  assert.deepEqual(new Set(Object.values(index.weight_map)), new Set(sharded.shardFiles));
  const a = openCheckpoint(dir);
  const b = openCheckpoint(path.join(family.out, "ct-6B"));
  for (const n of b.tensorNames()) assert.ok(Buffer.from(a.readTensor(n).bytes).equals(Buffer.from(b.readTensor(n).bytes)), n);
});

test("refuses to overwrite a previous generation unless asked", () => {
  assert.throws(() => generate("default"), /not empty/);
  generate("default", { overwrite: true });
});

test("CT task vectors grow with tokens", () => {
  const norms = conflicts.map((c) => c.ctDeltaNorm);
  for (let i = 1; i < norms.length; i++) assert.ok(norms[i]! > norms[i - 1]!, `${norms}`);
  assert.deepEqual(conflicts.map((c) => c.tokensB), [2, 4, 6, 8, 10, 12]);
});

test("sign conflicts with SFT and the SFT share discarded by the election grow with tokens (paper Fig. 3-4)", () => {
  const discarded = conflicts.map((c) => c.discardedShare);
  const conflict = conflicts.map((c) => c.conflictShare);
  const gain = discarded[discarded.length - 1]! - discarded[0]!;
  assert.ok(gain > 0.03 && gain < 0.06, `discarded share ${discarded.map((d) => d.toFixed(4))}`);
  for (let i = 1; i < discarded.length; i++) assert.ok(discarded[i]! > discarded[i - 1]!, `discarded share not increasing: ${discarded}`);
  assert.ok(conflict[conflict.length - 1]! - conflict[0]! > 0.01, `conflict share ${conflict}`);
});

test("CLI maps its flags onto generateModelFamily (same bytes as the API)", () => {
  const out = path.join(root, "cli");
  const args = ["--out", out, "--hidden", "64", "--layers", "2", "--intermediate", "172", "--vocab", "256", "--heads", "4", "--kv-heads", "2"];
  args.push("--ct-checkpoints", "2", "--tokens-per-checkpoint", "2", "--dtype", "bf16", "--seed", "1", "--shard-size", "100000");
  const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/generate-model-family.ts", ...args], { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(readdirSync(out).sort(), ["base", "ct-2B", "ct-4B", "sft"]);
  const cli = openCheckpoint(path.join(out, "ct-4B"));
  const api = openCheckpoint(path.join(family.out, "ct-4B"));
  assert.ok(cli.files.length > 1, "sharded");
  for (const n of api.tensorNames()) assert.ok(Buffer.from(cli.readTensor(n).bytes).equals(Buffer.from(api.readTensor(n).bytes)), n);
  const bad = spawnSync(process.execPath, ["--import", "tsx", "scripts/generate-model-family.ts", "--out", path.join(root, "bad"), "--heads", "5"], { encoding: "utf8" });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /divisible/);
});
