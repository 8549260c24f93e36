// Tokenizer merges end to end on a synthetic family whose vocabularies differ (a CT model with
// new BPE and added tokens, a second one sharing some of them at other ids, embedding rows
// beyond the tokenizer): the engine's embed / lm_head against the reference
// (test/reference: permutedEmbeddings + taskArithmetic), in both compute modes, for
// tokenizer_source union / base / a model, and the `tokenizer:` block (tokens, force, padding).
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { roundTo } from "@/server/engine/dtype";
import { merge } from "@/server/engine/merge";
import { parseRecipeYaml } from "@/server/engine/recipe";
import { writeSafetensors } from "@/server/engine/safetensors";
import { permutedEmbeddings, taskArithmetic, type EmbeddingModel } from "@/test/reference";
import { openCheckpoint } from "@/test/support/safetensors";
import { nativeMergeSkipReason, tempDir } from "./helpers";
import { vocabOf } from "./golden-cli-tokenizer";

const COLS = 8;
const BASE_TOKENS = ["<unk>", "<s>", "</s>", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];

interface Spec {
  name: string;
  /** Model-vocabulary tokens after the base's (BPE ids continue). */
  extra: string[];
  added: { content: string; special: boolean }[];
  /** Embedding rows beyond the tokenizer (padding) and config vocab_size. */
  padRows: number;
}

const FAMILY: Spec[] = [
  { name: "base", extra: [], added: [], padRows: 0 },
  { name: "sft", extra: [], added: [], padRows: 0 },
  { name: "ct", extra: ["x1", "x2", "y1"], added: [{ content: "<im>", special: true }], padRows: 0 },
  { name: "ct2", extra: ["y2", "y1"], added: [{ content: "<tool>", special: false }], padRows: 2 },
];

let seed = 99;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
const bf16 = (x: number) => roundTo("BF16", x);

function vocabFor(s: Spec): Map<string, number> {
  const v = new Map<string, number>();
  [...BASE_TOKENS, ...s.extra, ...s.added.map((a) => a.content)].forEach((t, i) => v.set(t, i));
  return v;
}

function writeModel(root: string, s: Spec): { dir: string; embed: Float32Array; head: Float32Array } {
  const dir = path.join(root, s.name);
  mkdirSync(dir, { recursive: true });
  const vocab = vocabFor(s);
  const rows = vocab.size + s.padRows;
  const values = (n: number) => Float32Array.from({ length: n }, () => bf16((rnd() - 0.5) / 4));
  const embed = values(rows * COLS);
  const head = values(rows * COLS);
  writeSafetensors(path.join(dir, "model.safetensors"), [
    { name: "lm_head.weight", dtype: "BF16", shape: [rows, COLS], data: head },
    { name: "model.embed_tokens.weight", dtype: "BF16", shape: [rows, COLS], data: embed },
    { name: "model.norm.weight", dtype: "BF16", shape: [COLS], data: values(COLS) },
  ]);
  const added = [0, 1, 2].map((id) => ({ id, content: BASE_TOKENS[id]!, special: true })).concat(s.added.map((a) => ({ id: vocab.get(a.content)!, ...a })));
  const modelVocab = Object.fromEntries([...vocab].filter(([t]) => !s.added.some((a) => a.content === t)));
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added.map((a) => ({ id: a.id, content: a.content, single_word: false, lstrip: false, rstrip: false, normalized: !a.special, special: a.special })),
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    model: { type: "BPE", dropout: null, unk_token: "<unk>", continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: modelVocab, merges: [] },
  };
  writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(tokenizer, null, 2));
  writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify({ tokenizer_class: "TokenizersBackend", unk_token: "<unk>" }, null, 2));
  writeFileSync(
    path.join(dir, "config.json"),
    JSON.stringify({ architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: COLS, num_attention_heads: 2, num_hidden_layers: 0, vocab_size: rows, torch_dtype: "bfloat16" }, null, 2),
  );
  return { dir, embed, head };
}

const skip = nativeMergeSkipReason();

describe("tokenizer merges against the reference", { skip }, () => {
  const RECIPE = (extra: string, dtypes: string) =>
    `merge_method: task_arithmetic\nbase_model: ./base\nmodels:\n  - model: ./sft\n    parameters: {weight: 0.5}\n  - model: ./ct\n    parameters: {weight: 0.3}\n  - model: ./ct2\n    parameters: {weight: 0.2}\n${extra}${dtypes}`;

  for (const mode of ["f32", "native"] as const) {
    const dtypes = mode === "f32" ? "dtype: float32\nout_dtype: bfloat16\n" : "";
    for (const [source, outTokens] of [
      // union: base, then ct's new tokens by id, ct2's, then the added tokens (first model wins)
      ["union", [...BASE_TOKENS, "x1", "x2", "y1", "y2", "<im>", "<tool>"]],
      ["base", BASE_TOKENS],
      ["./ct", [...BASE_TOKENS, "x1", "x2", "y1", "<im>"]],
    ] as const) {
      it(`tokenizer_source: ${source} (${mode})`, async (t) => {
        seed = 99;
        const root = tempDir(t);
        const family = FAMILY.map((s) => ({ spec: s, ...writeModel(root, s) }));
        const recipe = parseRecipeYaml(RECIPE(`tokenizer_source: ${source}\n`, dtypes), { recipeDir: root });
        const out = path.join(root, "out");
        const outcome = await merge(recipe, out, { threads: 2 });

        const ours = vocabOf(out);
        assert.deepEqual([...ours].sort((a, b) => a[1] - b[1]).map(([tok]) => tok), outTokens, "output vocabulary and ids");
        assert.equal(JSON.parse(readFileSync(path.join(out, "config.json"), "utf8")).vocab_size, outTokens.length);

        for (const name of ["model.embed_tokens.weight", "lm_head.weight"]) {
          const models: EmbeddingModel[] = family.map((f) => {
            // a model's vocabulary below its config vocab_size (the tokenizer's tokens here)
            return { name: f.spec.name, vocab: vocabFor(f.spec), rows: name.startsWith("lm_head") ? f.head : f.embed };
          });
          const rebuilt = permutedEmbeddings(outTokens, models, COLS, "base", { dtype: "BF16", mode });
          const shape = [outTokens.length, COLS];
          const expected = taskArithmetic(
            { shape, data: rebuilt.get("base")! },
            [
              { tensor: { shape, data: rebuilt.get("sft")! }, weight: 0.5 },
              { tensor: { shape, data: rebuilt.get("ct")! }, weight: 0.3 },
              { tensor: { shape, data: rebuilt.get("ct2")! }, weight: 0.2 },
            ],
            { dtype: "BF16", mode },
          );
          const actual = openCheckpoint(out).readFloat32(name);
          assert.equal(actual.length, expected.length, `${name} size`);
          let differ = 0;
          for (let i = 0; i < expected.length; i++) differ += Object.is(actual[i], expected[i]) ? 0 : 1;
          assert.equal(differ, 0, `${name}: ${differ} values differ from the reference`);
        }
        const report = outcome.stats.tokenizer!;
        const single = outTokens.filter((tok) => FAMILY.filter((s) => vocabFor(s).has(tok)).length === 1);
        assert.equal(report.not_merged.count, single.length);
        assert.deepEqual(report.not_merged.tokens.map((x) => x.token).sort(), [...single].sort());
        assert.equal(report.averaged_rows.count, outTokens.includes("y1") ? 1 : 0, "y1: held by ct and ct2, not by the base → averaged");
        if (source === "base") assert.equal(report.not_merged.count, 0);
      });
    }
  }

  it("the tokenizer: block adds tokens, forces sources and pads the rows", async (t) => {
    seed = 99;
    const root = tempDir(t);
    const family = FAMILY.map((s) => ({ spec: s, ...writeModel(root, s) }));
    const block = 'tokenizer:\n  source: base\n  pad_to_multiple_of: 8\n  tokens:\n    "<new>":\n      source: {kind: zero}\n    a:\n      source: ./ct2\n      force: true\n    "<cp>":\n      source: {kind: model_token, model: ./ct, token: x1}\n';
    const recipe = parseRecipeYaml(RECIPE(block, "dtype: float32\nout_dtype: bfloat16\n"), { recipeDir: root });
    const out = path.join(root, "out");
    const outcome = await merge(recipe, out, { threads: 1 });
    const ours = vocabOf(out);
    assert.equal(ours.get("<new>"), 13);
    assert.equal(ours.get("<cp>"), 14);
    assert.equal(outcome.stats.tokenizer?.embedding_rows, 16, "15 tokens padded to a multiple of 8");
    assert.equal(JSON.parse(readFileSync(path.join(out, "config.json"), "utf8")).vocab_size, 16, "config vocab_size: padded like the rows (mergekit _update_config_vocab)");
    const embed = openCheckpoint(out).readFloat32("model.embed_tokens.weight");
    const row = (r: number) => Array.from(embed.subarray(r * COLS, (r + 1) * COLS));
    const ct2 = family[3]!;
    const ct = family[2]!;
    // Every model carries ct2's row for the forced token "a": all deltas 0, output = that row.
    assert.deepEqual(row(3), Array.from(ct2.embed.subarray(3 * COLS, 4 * COLS)));
    assert.deepEqual(row(13), new Array(COLS).fill(0));
    assert.deepEqual(row(14), Array.from(ct.embed.subarray(13 * COLS, 14 * COLS)), "<cp> takes ct's row of x1");
    assert.equal(embed.length, 16 * COLS);
  });
});
