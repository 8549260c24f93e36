// The output tokenizer files of a tokenizer merge, as mergekit writes them through
// transformers 5.18 / tokenizers 0.23 (tokenizer.save_pretrained):
//  * tokenizer.json: the source tokenizer (stripped base, or the tokenizer_source model) with
//    the new tokens appended to added_tokens, serde_json pretty layout, no trailing newline;
//    numbers are written as they were read, so an input written by `tokenizers` comes back
//    byte-identical apart from the new entries;
//  * tokenizer_config.json: the source's, plus `is_local: true` and `local_files_only: true`
//    (what transformers records for a tokenizer loaded offline from a folder, as MergeScope
//    always does), Python json.dumps(indent=2, sort_keys=True) + "\n";
//  * chat_template.jinja is copied when the source has one.
import { copyFile, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { writeFileDurable, fsyncPath } from "../output/durable";
import { EngineError } from "../output/errors";
import { dumpJsonLiteral, isJsonObject, JsonNumber, parseJsonLiteral, type JsonObject, type JsonValue } from "../json-literal";
import { TOKENIZER_CONFIG, TOKENIZER_JSON } from "./read";
import { outputAddedTokens, type OutputVocab } from "./vocab";

/** tokenizer.json of the output (text). */
export function outputTokenizerJson(out: OutputVocab): string {
  const json: JsonObject = new Map(out.from.json);
  json.set("added_tokens", outputAddedTokens(out));
  if (out.strippedIds.size > 0) {
    const model = new Map(json.get("model") as JsonObject);
    const vocab = model.get("vocab");
    const removed = new Set<string>();
    if (isJsonObject(vocab)) {
      const kept: JsonObject = new Map();
      for (const [tok, id] of vocab) {
        if (id instanceof JsonNumber && out.strippedIds.has(id.value)) removed.add(tok);
        else kept.set(tok, id);
      }
      model.set("vocab", kept);
    }
    for (const a of out.from.added) if (out.strippedIds.has(a.id)) removed.add(a.content);
    const merges = model.get("merges");
    if (Array.isArray(merges)) {
      model.set(
        "merges",
        merges.filter((m: JsonValue) => {
          const parts = typeof m === "string" ? m.split(" ") : Array.isArray(m) ? m : [];
          return !parts.some((p) => typeof p === "string" && removed.has(p));
        }),
      );
    }
    json.set("model", model);
  }
  return dumpJsonLiteral(json, { indent: 2, numbers: "literal" });
}

/** tokenizer_config.json of the output (text), or null when the source has none. */
export async function outputTokenizerConfig(sourceDir: string): Promise<string | null> {
  const file = path.join(sourceDir, TOKENIZER_CONFIG);
  if (!existsSync(file)) return null;
  let cfg: JsonValue;
  try {
    cfg = parseJsonLiteral(await readFile(file, "utf8"));
  } catch (err) {
    throw new EngineError("MODEL_TOKENIZER_INVALID", `${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!isJsonObject(cfg)) throw new EngineError("MODEL_TOKENIZER_INVALID", `${file}: not a JSON object`);
  const out: JsonObject = new Map(cfg);
  out.set("is_local", true);
  out.set("local_files_only", true);
  return `${dumpJsonLiteral(out, { indent: 2, sortKeys: true, numbers: "python" })}\n`;
}

/** Writes the output tokenizer files into `destDir`; returns the names written. */
export async function writeTokenizerFiles(out: OutputVocab, destDir: string): Promise<string[]> {
  const written = [TOKENIZER_JSON];
  await writeFileDurable(path.join(destDir, TOKENIZER_JSON), outputTokenizerJson(out));
  const cfg = await outputTokenizerConfig(out.from.dir);
  if (cfg !== null) {
    await writeFileDurable(path.join(destDir, TOKENIZER_CONFIG), cfg);
    written.push(TOKENIZER_CONFIG);
  }
  const template = path.join(out.from.dir, "chat_template.jinja");
  if (existsSync(template)) {
    await copyFile(template, path.join(destDir, "chat_template.jinja"));
    await fsyncPath(path.join(destDir, "chat_template.jinja"));
    written.push("chat_template.jinja");
  }
  return written;
}
