// The output vocabulary of a tokenizer merge and each input's permutation into it
// (mergekit 0.1.4 mergekit/tokenizer/build.py), with one deliberate difference:
//
//   `union` numbers the tokens other models add, which mergekit takes in the iteration order
//   of each tokenizer's get_vocab() — a Rust HashMap, random in every process. MergeScope
//   takes them in a fixed order instead: models in recipe order (the tokenizer base first),
//   each model's tokens by ascending id. UNION_ORDER_RULE says so in the model card.
//
// Everything else follows mergekit: the base tokenizer is stripped of ids >= its config's
// vocab_size (BPE only); `union` = base + other models' non-added tokens (appended as
// non-special added tokens) + every model's added tokens (flags kept, first model wins);
// `tokenizer.tokens` keys are added last; a model maps output id → its own id when it has the
// token below its vocab_size, else -1.
import { EngineError } from "../output/errors";
import { isJsonObject, JsonNumber, type JsonObject, type JsonValue } from "../json-literal";
import { tokensById, type AddedToken, type TokenizerData } from "./read";

export const UNION_ORDER_RULE =
  "tokens that only other models have are numbered after the base vocabulary in a fixed order: models in recipe order (base first), each model's tokens by ascending id, then the models' added tokens in the same order (mergekit numbers them in random hash-map order)";

export interface OutputToken {
  id: number;
  content: string;
}

export interface OutputVocab {
  /** tokens[id] = the token; ids are 0..size-1. */
  tokens: string[];
  ids: Map<string, number>;
  /** The tokenizer the output files are derived from (stripped base, or the source model's). */
  from: TokenizerData;
  /** Ids removed from `from` (stripped above its vocab_size). */
  strippedIds: Set<number>;
  /** Entries appended to added_tokens, in id order. */
  appended: JsonObject[];
}

function addedEntry(id: number, content: string, like?: JsonObject): JsonObject {
  const e: JsonObject = new Map<string, JsonValue>([["id", new JsonNumber(String(id))]]);
  e.set("content", content);
  if (like) {
    for (const [k, v] of like) if (k !== "id" && k !== "content") e.set(k, v);
    return e;
  }
  // transformers add_tokens(str): AddedToken(content, special=False, normalized=True)
  e.set("single_word", false);
  e.set("lstrip", false);
  e.set("rstrip", false);
  e.set("normalized", true);
  e.set("special", false);
  return e;
}

function contiguous(vocab: Map<string, number>, what: string): string[] {
  const tokens: string[] = [];
  for (const [tok, id] of vocab) {
    if (tokens[id] !== undefined && tokens[id] !== tok) throw new EngineError("MODEL_TOKENIZER_INVALID", `${what}: id ${id} is used by two tokens`);
    tokens[id] = tok;
  }
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === undefined) {
      throw new EngineError("MODEL_TOKENIZER_INVALID", `${what}: token ids are not contiguous (no token has id ${i}); the tokenizer merge needs ids 0..N-1`);
    }
  }
  return tokens;
}

/** The base tokenizer without ids >= its vocab_size (mergekit get_stripped_tokenizer). */
export function strippedVocab(t: TokenizerData): { vocab: Map<string, number>; stripped: Set<number> } {
  const stripped = new Set<number>();
  const vocab = new Map<string, number>();
  for (const [tok, id] of t.vocab) {
    if (id >= t.vocabSize) stripped.add(id);
    else vocab.set(tok, id);
  }
  if (stripped.size > 0 && t.modelType !== "BPE") {
    throw new EngineError(
      "MODEL_TOKENIZER_INVALID",
      `${t.dir}: the tokenizer has ${t.vocab.size} tokens but config.json vocab_size is ${t.vocabSize}, and only BPE tokenizers can be stripped (mergekit does the same); this one is ${t.modelType}`,
    );
  }
  return { vocab, stripped };
}

export interface BuildVocabInput {
  source: "base" | "union" | "model";
  /** The tokenizer base (recipe base model, or the first model without one). */
  base: TokenizerData;
  /** Every input's tokenizer in recipe order (base first); the base may be listed again. */
  models: TokenizerData[];
  /** source "model": the tokenizer to use as is. */
  sourceTokenizer?: TokenizerData;
  /** tokenizer.tokens keys, in order. */
  addTokens: string[];
}

export function buildOutputVocab(input: BuildVocabInput): OutputVocab {
  let from: TokenizerData;
  let vocab: Map<string, number>;
  let strippedIds = new Set<number>();
  if (input.source === "model") {
    from = input.sourceTokenizer!;
    vocab = new Map(from.vocab);
  } else {
    from = input.base;
    const s = strippedVocab(input.base);
    vocab = s.vocab;
    strippedIds = s.stripped;
  }
  const tokens = contiguous(vocab, from.dir);
  const appended: JsonObject[] = [];
  const append = (content: string, like?: JsonObject) => {
    if (vocab.has(content)) return;
    const id = tokens.length;
    tokens.push(content);
    vocab.set(content, id);
    appended.push(addedEntry(id, content, like));
  };
  if (input.source === "union") {
    const queued = new Set<string>();
    const outVocab: string[] = [];
    const outAdded = new Map<string, AddedToken>();
    for (const t of input.models) {
      const addedHere = new Set(t.added.map((a) => a.content));
      for (const [tok] of tokensById(t.vocab, t.vocabSize)) {
        if (addedHere.has(tok) || queued.has(tok)) continue;
        queued.add(tok);
        outVocab.push(tok);
      }
      for (const a of t.added) if (a.id < t.vocabSize && !outAdded.has(a.content)) outAdded.set(a.content, a);
    }
    for (const tok of outVocab) if (!outAdded.has(tok)) append(tok);
    for (const a of outAdded.values()) append(a.content, a.entry);
  }
  for (const tok of input.addTokens) append(tok);
  return { tokens, ids: vocab, from, strippedIds, appended };
}

/** Embedding rows (and config vocab_size) for `size` tokens with tokenizer.pad_to_multiple_of. */
export function paddedVocabSize(size: number, padToMultipleOf: number | null | undefined): number {
  return padToMultipleOf && size % padToMultipleOf ? (Math.floor(size / padToMultipleOf) + 1) * padToMultipleOf : size;
}

/** permutation[outId] = the model's own id of that token, or -1 (mergekit's TokenizerInfo.permutations). */
export function permutation(out: OutputVocab, model: Pick<TokenizerData, "vocab" | "vocabSize">): Int32Array {
  const p = new Int32Array(out.tokens.length).fill(-1);
  out.tokens.forEach((tok, id) => {
    const own = model.vocab.get(tok);
    if (own !== undefined && own < model.vocabSize) p[id] = own;
  });
  return p;
}

/** The JSON entries in `json.added_tokens` that survive stripping, plus the appended ones. */
export function outputAddedTokens(out: OutputVocab): JsonValue[] {
  const existing = out.from.json.get("added_tokens");
  const kept = (Array.isArray(existing) ? existing : []).filter((e) => {
    if (!isJsonObject(e)) return true;
    const id = e.get("id");
    return !(id instanceof JsonNumber && out.strippedIds.has(id.value));
  });
  return [...kept, ...out.appended];
}
