// A model's fast tokenizer (tokenizer.json, the format of the `tokenizers` library) as the
// tokenizer merge needs it: get_vocab() (model vocabulary + added tokens), the added tokens
// with their flags, and the config's vocab_size (rows the embedding actually has).
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { PathError, readRegularFileTextSync } from "../../paths";
import { EngineError } from "../output/errors";
import { isJsonObject, JsonNumber, parseJsonLiteral, type JsonObject, type JsonValue } from "../json-literal";

export const TOKENIZER_JSON = "tokenizer.json";
export const TOKENIZER_CONFIG = "tokenizer_config.json";
/** Large vocabularies make tokenizer.json tens of MB; far above that is not a tokenizer. */
const TOKENIZER_JSON_MAX_BYTES = 512 * 2 ** 20;
const CONFIG_JSON_MAX_BYTES = 16 * 2 ** 20;

/** The folders the engine may read (the request's allowed roots), or null for the local CLI. */
export type ReadRoots = readonly string[] | null;

export interface AddedToken {
  id: number;
  content: string;
  /** The entry as written (single_word, lstrip, rstrip, normalized, special), re-used verbatim. */
  entry: JsonObject;
  special: boolean;
}

export interface TokenizerData {
  dir: string;
  /** tokenizer.json as read (key order and number text preserved). */
  json: JsonObject;
  modelType: string;
  /** get_vocab(): token → id, model vocabulary overridden by added tokens. */
  vocab: Map<string, number>;
  /** added_tokens sorted by id. */
  added: AddedToken[];
  /** config.json vocab_size (or the tokenizer's size when the config has none): ids >= it have no embedding row. */
  vocabSize: number;
}

function bad(file: string, why: string): never {
  throw new EngineError("MODEL_TOKENIZER_INVALID", `${file}: ${why}`);
}

const int = (v: JsonValue | undefined): number | null => (v instanceof JsonNumber && v.isInteger && Number.isSafeInteger(v.value) && v.value >= 0 ? v.value : null);

/** The model folder of a path (a .safetensors file's folder). */
export function modelFolder(p: string): string {
  try {
    return statSync(p).isFile() ? path.dirname(p) : p;
  } catch {
    return p;
  }
}

export function hasTokenizerJson(modelPath: string): boolean {
  return existsSync(path.join(modelFolder(modelPath), TOKENIZER_JSON));
}

/** config.json vocab_size of a model folder (top level or text_config), or null. */
export function configVocabSize(modelPath: string, roots: ReadRoots = null): number | null {
  let text: string;
  try {
    text = readRegularFileTextSync(path.join(modelFolder(modelPath), "config.json"), { roots, maxBytes: CONFIG_JSON_MAX_BYTES, what: "config.json" });
  } catch (err) {
    // No config is normal; one the checks refuse (outside the roots, a FIFO, huge) is an error.
    if (err instanceof PathError && err.rule === "PATH_NOT_FOUND") return null;
    throw err;
  }
  try {
    const cfg = JSON.parse(text) as Record<string, unknown>;
    const v = cfg.vocab_size ?? (cfg.text_config as Record<string, unknown> | undefined)?.vocab_size;
    return Number.isSafeInteger(v) && (v as number) > 0 ? (v as number) : null;
  } catch {
    return null;
  }
}

export function readTokenizer(modelPath: string, roots: ReadRoots = null): TokenizerData {
  const dir = modelFolder(modelPath);
  const file = path.join(dir, TOKENIZER_JSON);
  let text: string;
  try {
    text = readRegularFileTextSync(file, { roots, maxBytes: TOKENIZER_JSON_MAX_BYTES, what: TOKENIZER_JSON });
  } catch (err) {
    if (!(err instanceof PathError && err.rule === "PATH_NOT_FOUND")) throw err;
    const slow = existsSync(path.join(dir, "tokenizer.model"));
    throw new EngineError(
      "MODEL_TOKENIZER_INVALID",
      `${dir} has no ${TOKENIZER_JSON}${slow ? " (only a sentencepiece tokenizer.model)" : ""}; the tokenizer merge reads fast tokenizers: save one with transformers (AutoTokenizer.from_pretrained(...).save_pretrained(...)) first`,
    );
  }
  let json: JsonValue;
  try {
    json = parseJsonLiteral(text);
  } catch (err) {
    return bad(file, `not valid JSON (${(err as Error).message})`);
  }
  if (!isJsonObject(json)) bad(file, "not a JSON object");
  const model = json.get("model");
  if (!isJsonObject(model)) bad(file, "no `model` object");
  const modelType = typeof model.get("type") === "string" ? (model.get("type") as string) : "BPE";
  const vocab = new Map<string, number>();
  const mv = model.get("vocab");
  if (isJsonObject(mv)) {
    for (const [tok, id] of mv) {
      const n = int(id);
      if (n === null) bad(file, `vocabulary id of ${JSON.stringify(tok)} is not a non-negative integer`);
      vocab.set(tok, n);
    }
  } else if (Array.isArray(mv)) {
    // Unigram: [[piece, score], ...], id = position.
    mv.forEach((e, i) => {
      if (!Array.isArray(e) || typeof e[0] !== "string") bad(file, `model.vocab[${i}] is not [piece, score]`);
      vocab.set(e[0] as string, i);
    });
  } else bad(file, "model.vocab is neither a mapping nor a list");
  const added: AddedToken[] = [];
  const at = json.get("added_tokens");
  if (at !== undefined && at !== null && !Array.isArray(at)) bad(file, "added_tokens is not a list");
  for (const [i, e] of (Array.isArray(at) ? at : []).entries()) {
    if (!isJsonObject(e)) bad(file, `added_tokens[${i}] is not an object`);
    const id = int(e.get("id"));
    const content = e.get("content");
    if (id === null || typeof content !== "string") bad(file, `added_tokens[${i}] needs an integer id and a string content`);
    added.push({ id, content, entry: e, special: e.get("special") === true });
    vocab.set(content, id);
  }
  added.sort((a, b) => a.id - b.id);
  const size = configVocabSize(modelPath, roots);
  return { dir, json, modelType, vocab, added, vocabSize: size ?? vocab.size };
}

/** Tokens by id (ascending), skipping ids >= limit. */
export function tokensById(vocab: Map<string, number>, limit = Infinity): [string, number][] {
  return [...vocab].filter(([, id]) => id < limit).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
}
