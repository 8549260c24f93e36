// Kind `cli` golden cases (test/fixtures/golden/README.md "Layout of kind cli"): whole Hugging
// Face model folders, a recipe run by mergekit-yaml, the model.safetensors / config.json /
// tokenizer files it wrote. Helpers to compare a MergeScope output folder with them.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { openCheckpoint, readSafetensors } from "@/test/support/safetensors";
import { roundTo } from "@/server/engine/dtype";
import { dumpJsonLiteral, parseJsonLiteral, type JsonObject } from "@/server/engine/json-literal";
import { goldenIndex } from "../engine/golden-fixtures";
import { caseDir } from "./helpers";

export interface CliCase {
  id: string;
  method: string;
  exactness: string;
  storage_dtype: string;
  models: Record<string, { dir: string; vocab_size?: number; tokenizer?: string | null; peft_lora?: boolean }>;
  output_vocab_size: number;
  tokenizer?: { output_vocab_this_run: Record<string, number>; arbitrary_id_tokens: string[] };
}

/** The tokenizer and LoRA cli cases (gradients, slices and della have their own suites). */
export function cliCaseIds(): string[] {
  return goldenIndex()
    .filter((c) => c.kind === "cli" && /tokenizer|lora/.test(c.id))
    .map((c) => c.id);
}

export function loadCliCase(id: string): CliCase {
  return JSON.parse(readFileSync(path.join(caseDir(id), "case.json"), "utf8")) as CliCase;
}

/** The two runs of a case: recipe file → expected tensors and config. */
export function cliRuns(c: CliCase): { recipe: string; tensors: string; config: string; tokenizerDir: string | null }[] {
  const dir = caseDir(c.id);
  const tok = existsSync(path.join(dir, "expected_tokenizer")) ? path.join(dir, "expected_tokenizer") : null;
  return [
    { recipe: "recipe.yml", tensors: "expected.safetensors", config: "expected_config.json", tokenizerDir: null },
    // expected_tokenizer/ was written by the recipe_native.yml run.
    { recipe: "recipe_native.yml", tensors: "expected_native.safetensors", config: "expected_native_config.json", tokenizerDir: tok },
  ];
}

const EMBEDDING = /(embed_tokens|lm_head)\.weight$/;

function rowsOf(bytes: Uint8Array, rows: number): Buffer[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = b.length / rows;
  return Array.from({ length: rows }, (_, r) => b.subarray(r * size, (r + 1) * size));
}

/** Token → id of an output folder's tokenizer.json (model vocab and added tokens). */
export function vocabOf(dir: string): Map<string, number> {
  const t = JSON.parse(readFileSync(path.join(dir, "tokenizer.json"), "utf8")) as { model: { vocab: Record<string, number> }; added_tokens: { id: number; content: string }[] };
  const v = new Map(Object.entries(t.model.vocab));
  for (const a of t.added_tokens) v.set(a.content, a.id);
  return v;
}

/** Positions (flat, in our layout) that may differ: see tieAmbiguousMask. */
export type MaskFor = (tensor: string) => Uint8Array | null;

function countDiffs(a: Buffer, e: Buffer, elemBytes: number, mask: Uint8Array | null, offset: number): { bad: number; tolerated: number } {
  let bad = 0;
  let tolerated = 0;
  for (let i = 0; i < a.length / elemBytes; i++) {
    if (a.subarray(i * elemBytes, (i + 1) * elemBytes).equals(e.subarray(i * elemBytes, (i + 1) * elemBytes))) continue;
    if (mask?.[offset + i]) tolerated++;
    else bad++;
  }
  return { bad, tolerated };
}

/**
 * Every tensor bit-identical to the expected file, except positions `maskFor` marks (ties'
 * top-k tie order, see tieAmbiguousMask). With `byToken` (union tokenizer,
 * exact_up_to_token_id_permutation), embedding rows are compared per token: the expected file's
 * token ids of the arbitrarily numbered tokens are found by their rows, which for tokens only the
 * donor model has are the donor's own rows (README "Tokenizer"). Returns the tolerated count.
 */
export function assertTensorsMatch(
  c: CliCase,
  outDir: string,
  expectedFile: string,
  byToken?: { ours: Map<string, number>; donorDir: string; donorVocab: Map<string, number> },
  maskFor: MaskFor = () => null,
): number {
  const expected = readSafetensors(path.join(caseDir(c.id), expectedFile));
  const actual = openCheckpoint(outDir);
  assert.deepEqual(actual.tensorNames().sort(), expected.tensorNames().sort(), `${c.id}: tensor names`);
  const donor = byToken ? openCheckpoint(byToken.donorDir) : null;
  let tolerated = 0;
  for (const name of expected.tensorNames()) {
    const e = expected.readTensor(name);
    const a = actual.readTensor(name);
    const where = `${c.id} ${expectedFile} ${name}`;
    assert.equal(a.dtype, e.dtype, `${where}: dtype`);
    assert.deepEqual(a.shape, e.shape, `${where}: shape`);
    const elem = e.dtype === "F32" ? 4 : 2;
    const mask = maskFor(name);
    if (!byToken || !EMBEDDING.test(name)) {
      const d = countDiffs(Buffer.from(a.bytes), Buffer.from(e.bytes), elem, mask, 0);
      assert.equal(d.bad, 0, `${where}: ${d.bad} values differ outside tie-order positions`);
      tolerated += d.tolerated;
      continue;
    }
    const rows = e.shape[0]!;
    const cols = e.bytes.length / elem / rows;
    const er = rowsOf(e.bytes, rows);
    const ar = rowsOf(a.bytes, rows);
    const dt = donor!.readTensor(name);
    const dr = rowsOf(dt.bytes, dt.shape[0]!);
    const arbitrary = new Set(c.tokenizer!.arbitrary_id_tokens);
    for (const [token, ourId] of byToken.ours) {
      let expectedId = ourId;
      if (arbitrary.has(token)) {
        const donorRow = dr[byToken.donorVocab.get(token)!]!;
        const matches: number[] = er.map((row, i) => (row.equals(donorRow) ? i : -1)).filter((i) => i >= 0);
        assert.equal(matches.length, 1, `${where}: the expected file has ${matches.length} rows equal to the donor's row of ${JSON.stringify(token)}`);
        expectedId = matches[0]!;
      }
      const d = countDiffs(ar[ourId]!, er[expectedId]!, elem, mask, ourId * cols);
      assert.equal(d.bad, 0, `${where}: row of ${JSON.stringify(token)} (our id ${ourId}, expected id ${expectedId}) differs outside tie-order positions`);
      tolerated += d.tolerated;
    }
  }
  return tolerated;
}

/** A file byte-identical to the expected one. */
export function assertSameFile(actual: string, expected: string): void {
  assert.ok(existsSync(actual), `${actual} was not written`);
  assert.equal(readFileSync(actual, "utf8"), readFileSync(expected, "utf8"), `${path.basename(actual)} differs from ${expected}`);
}

/**
 * tokenizer.json equal to the expected one up to the ids of `arbitrary` tokens: same text
 * layout (our serializer reproduces the expected file byte for byte), same keys and values,
 * same added tokens with the same flags; returns our ids of the arbitrary tokens.
 */
export function assertTokenizerJsonMatches(actualFile: string, expectedFile: string, arbitrary: string[]): Map<string, number> {
  const expectedText = readFileSync(expectedFile, "utf8");
  const expected = parseJsonLiteral(expectedText) as JsonObject;
  assert.equal(dumpJsonLiteral(expected, { indent: 2, numbers: "literal" }), expectedText, "the serde layout of tokenizer.json round-trips");
  const actual = parseJsonLiteral(readFileSync(actualFile, "utf8")) as JsonObject;
  assert.deepEqual([...actual.keys()], [...expected.keys()], "tokenizer.json keys");
  for (const k of expected.keys()) {
    if (k === "added_tokens") continue;
    assert.equal(dumpJsonLiteral(actual.get(k)!, { indent: 2, numbers: "literal" }), dumpJsonLiteral(expected.get(k)!, { indent: 2, numbers: "literal" }), `tokenizer.json ${k}`);
  }
  const strip = (e: JsonObject) => dumpJsonLiteral(new Map([...e].filter(([key]) => key !== "id")), { indent: 2, numbers: "literal" });
  const entries = (o: JsonObject) => (o.get("added_tokens") as JsonObject[]).map((e) => ({ id: Number(String((e.get("id") as { raw: string }).raw)), content: e.get("content") as string, flags: strip(e) }));
  const ea = entries(expected);
  const aa = entries(actual);
  assert.deepEqual(aa.map((e) => e.flags).sort(), ea.map((e) => e.flags).sort(), "added tokens and their flags");
  const ids = new Map<string, number>();
  for (const e of aa) {
    ids.set(e.content, e.id);
    if (!arbitrary.includes(e.content)) assert.equal(e.id, ea.find((x) => x.content === e.content)!.id, `id of ${JSON.stringify(e.content)}`);
  }
  assert.deepEqual(aa.map((e) => e.id), [...aa.map((e) => e.id)].sort((x, y) => x - y), "added_tokens sorted by id");
  return ids;
}

/**
 * Positions of a ties-family merge whose value depends on the order in which torch's sort
 * returns entries of EQUAL |delta| at the top-k threshold (README "Tie order"): for some model,
 * |delta| equals its k-th largest magnitude and not all entries at that magnitude fit in k.
 * The engine's trim keeps the lowest flat index first; mergekit keeps libstdc++ introsort's
 * order (reproduced by the tie-order work, not on this branch), so only these positions may
 * differ. Computed independently here from the inputs in the output layout (`layout`).
 */
export function tieAmbiguousMask(
  inputs: { base: Float32Array; models: { x: Float32Array; density: number }[] },
  compute: "F32" | "BF16",
): Uint8Array {
  const n = inputs.base.length;
  const mask = new Uint8Array(n);
  for (const { x, density } of inputs.models) {
    if (density >= 1) continue;
    const d = new Float32Array(n);
    for (let j = 0; j < n; j++) d[j] = Math.abs(compute === "F32" ? Math.fround(x[j]! - inputs.base[j]!) : roundTo("BF16", x[j]! - inputs.base[j]!));
    const k = Math.trunc(density * n);
    if (k === 0) continue;
    const thr = [...d].sort((p, q) => q - p)[k - 1]!;
    let gt = 0;
    let eq = 0;
    for (const v of d) {
      if (v > thr) gt++;
      else if (v === thr) eq++;
    }
    if (gt + eq > k) d.forEach((v, j) => v === thr && (mask[j] = 1));
  }
  return mask;
}
