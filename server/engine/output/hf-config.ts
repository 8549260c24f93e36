// config.json of a merged model, as mergekit 0.1.4 writes it through transformers 5.18:
// AutoConfig.from_pretrained(base) → set dtype (recipe out_dtype, else dtype), vocab_size (tokenizer
// merge) and the layer count (slices) → save_pretrained, i.e. the config class's fields with
// their defaults, legacy keys converted (torch_dtype → dtype, rope_theta / rope_scaling →
// rope_parameters), keys equal to PreTrainedConfig's defaults dropped, sorted keys, Python
// number formatting (10000.0, 1e-05). The layout (1-space indent, trailing newline) is the one
// recorded in the golden cases' expected_config.json.
//
// That normalisation needs each config class's fields and defaults; MergeScope carries them for
// the model types in CONFIG_CLASSES. Any other config.json is written as it was read — same key
// order, same number text, same indentation — with only the changed values replaced.
import { dumpJsonLiteral, isJsonObject, JsonNumber, parseJsonLiteral, type JsonObject, type JsonValue } from "../json-literal";
import type { RecipeDtype } from "../recipe/types";
import { EngineError } from "./errors";

export const TRANSFORMERS_VERSION = "5.18.0";

export interface OutputConfigChanges {
  /** torch dtype name to record; null keeps the base's (mergekit sets it only when the recipe has out_dtype / dtype). */
  dtype: RecipeDtype | null;
  /** Output vocabulary size (tokenizer merges); null keeps the base's. */
  vocabSize?: number | null;
  /** Output layer count (slices); null keeps the base's. */
  numHiddenLayers?: number | null;
}

const int = (n: number) => new JsonNumber(String(n));
const float = (n: number) => JsonNumber.of(n, true);

/** A config class: field → default (undefined = derived in post-init). Mirrors transformers' dataclass fields. */
interface ConfigClass {
  fields: Record<string, JsonValue | undefined>;
  defaultTheta: number;
  postInit: (c: JsonObject) => void;
}

// transformers/models/llama/configuration_llama.py (5.x)
const LLAMA: ConfigClass = {
  fields: {
    vocab_size: int(32000),
    hidden_size: int(4096),
    intermediate_size: int(11008),
    num_hidden_layers: int(32),
    num_attention_heads: int(32),
    num_key_value_heads: undefined,
    hidden_act: "silu",
    max_position_embeddings: int(2048),
    initializer_range: float(0.02),
    rms_norm_eps: float(1e-6),
    use_cache: true,
    pad_token_id: null,
    bos_token_id: int(1),
    eos_token_id: int(2),
    pretraining_tp: int(1),
    tie_word_embeddings: false,
    rope_parameters: null,
    attention_bias: false,
    attention_dropout: float(0.0),
    mlp_bias: false,
    head_dim: undefined,
  },
  defaultTheta: 10000.0,
  postInit: (c) => {
    const hidden = (c.get("hidden_size") as JsonNumber).value;
    const heads = c.get("num_attention_heads") as JsonNumber;
    if (c.get("head_dim") == null) c.set("head_dim", int(Math.floor(hidden / heads.value)));
    if (c.get("num_key_value_heads") == null) c.set("num_key_value_heads", heads);
  },
};

export const CONFIG_CLASSES: Record<string, ConfigClass> = { llama: LLAMA };

/** PreTrainedConfig fields and the values to_diff_dict drops as defaults. */
const BASE_DEFAULTS: [string, JsonValue][] = [
  ["architectures", null],
  ["output_hidden_states", false],
  ["return_dict", true],
  ["dtype", null],
  ["chunk_size_feed_forward", int(0)],
  ["is_encoder_decoder", false],
  ["problem_type", null],
  ["output_attentions", false],
];

/** GenerationConfig defaults: popped from a model config's extra keys (transformers 5). */
const GENERATION_KEYS = new Set([
  "max_length", "min_length", "do_sample", "early_stopping", "num_beams", "temperature", "top_k", "top_p", "typical_p",
  "repetition_penalty", "length_penalty", "no_repeat_ngram_size", "encoder_no_repeat_ngram_size", "bad_words_ids",
  "num_return_sequences", "output_scores", "return_dict_in_generate", "forced_bos_token_id", "forced_eos_token_id",
  "remove_invalid_values", "exponential_decay_length_penalty", "suppress_tokens", "begin_suppress_tokens",
  "epsilon_cutoff", "eta_cutoff", "encoder_repetition_penalty", "num_assistant_tokens", "num_assistant_tokens_schedule",
  "assistant_confidence_threshold", "assistant_lookbehind", "target_lookbehind", "num_beam_groups", "diversity_penalty",
]);

/** Keys the loader consumes or the saver removes. */
const DROPPED_KEYS = new Set([
  "name_or_path", "_name_or_path", "_commit_hash", "attn_implementation", "experts_implementation", "per_layer_config",
  "_attn_implementation_internal", "_experts_implementation_internal", "_is_quantized", "_auto_class",
  "ignore_keys_at_rope_validation", "base_model_tp_plan", "base_model_pp_plan", "distributed_config", "num_labels",
]);

function equalJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a instanceof JsonNumber && b instanceof JsonNumber) return a.value === b.value;
  if (a instanceof JsonNumber || b instanceof JsonNumber) {
    // Python: False == 0, True == 1
    const num = (v: JsonValue | undefined) => (v instanceof JsonNumber ? v.value : v === true ? 1 : v === false ? 0 : NaN);
    return num(a) === num(b);
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equalJson(x, b[i]));
  if (isJsonObject(a) && isJsonObject(b)) return a.size === b.size && [...a].every(([k, v]) => b.has(k) && equalJson(v, b.get(k)));
  return a === b;
}

function parseConfig(text: string, file: string): JsonObject {
  let v: JsonValue;
  try {
    v = parseJsonLiteral(text);
  } catch (err) {
    throw new EngineError("MODEL_CONFIG_INVALID", `${file} is not valid JSON (${(err as Error).message}); fix or remove it`, { cause: err });
  }
  if (!isJsonObject(v)) throw new EngineError("MODEL_CONFIG_INVALID", `${file} is not a JSON object; fix or remove it`);
  return v;
}

/** transformers 5.18 from_pretrained + save_pretrained of a known config class. */
function normalizeKnown(input: JsonObject, cls: ConfigClass, modelType: string, changes: OutputConfigChanges): JsonObject {
  const kwargs: JsonObject = new Map(input);
  const c: JsonObject = new Map();
  for (const [k, def] of Object.entries(cls.fields)) {
    if (kwargs.has(k)) {
      c.set(k, kwargs.get(k)!);
      kwargs.delete(k);
    } else c.set(k, def === undefined ? null : def);
  }
  for (const [k, def] of BASE_DEFAULTS) {
    if (kwargs.has(k)) {
      c.set(k, kwargs.get(k)!);
      kwargs.delete(k);
    } else c.set(k, def);
  }
  cls.postInit(c);
  // PreTrainedConfig.__post_init__
  const torchDtype = kwargs.get("torch_dtype");
  kwargs.delete("torch_dtype");
  if (c.get("dtype") == null && torchDtype != null) c.set("dtype", torchDtype);
  const numLabels = kwargs.get("num_labels");
  if (!kwargs.has("id2label") && numLabels instanceof JsonNumber && numLabels.value !== 2) {
    const n = numLabels.value;
    c.set("id2label", new Map(Array.from({ length: n }, (_, i) => [String(i), `LABEL_${i}`] as [string, JsonValue])));
    c.set("label2id", new Map(Array.from({ length: n }, (_, i) => [`LABEL_${i}`, int(i)] as [string, JsonValue])));
  }
  // RoPE: rope_scaling (legacy) or rope_parameters, plus rope_theta, standardized.
  const scaling = kwargs.get("rope_scaling");
  kwargs.delete("rope_scaling");
  const existing = isJsonObject(scaling) && scaling.size > 0 ? scaling : c.get("rope_parameters");
  const rope: JsonObject = isJsonObject(existing) ? new Map(existing) : new Map();
  const theta = kwargs.get("rope_theta");
  kwargs.delete("rope_theta");
  if (!rope.has("rope_theta")) rope.set("rope_theta", theta ?? float(cls.defaultTheta));
  const partial = kwargs.get("partial_rotary_factor");
  if (partial != null && !rope.has("partial_rotary_factor")) rope.set("partial_rotary_factor", partial);
  if (!rope.has("rope_type")) rope.set("rope_type", rope.get("type") ?? "default");
  c.set("rope_parameters", rope);
  for (const k of [...kwargs.keys()]) if (GENERATION_KEYS.has(k) || DROPPED_KEYS.has(k)) kwargs.delete(k);
  kwargs.delete("model_type");
  kwargs.delete("transformers_version");
  for (const [k, v] of kwargs) c.set(k, v);
  // mergekit's changes (after loading, before saving)
  if (changes.dtype !== null) c.set("dtype", changes.dtype);
  if (changes.vocabSize != null) c.set("vocab_size", int(changes.vocabSize));
  if (changes.numHiddenLayers != null) c.set("num_hidden_layers", int(changes.numHiddenLayers));
  // to_dict / to_diff_dict
  c.set("model_type", modelType);
  c.set("transformers_version", TRANSFORMERS_VERSION);
  for (const [k, def] of BASE_DEFAULTS) if (equalJson(c.get(k), def)) c.delete(k);
  return c;
}

function setNested(config: JsonObject, key: string, value: JsonValue): boolean {
  if (config.has(key)) {
    config.set(key, value);
    return true;
  }
  const text = config.get("text_config");
  if (isJsonObject(text) && text.has(key)) {
    const copy = new Map(text);
    copy.set(key, value);
    config.set("text_config", copy);
    return true;
  }
  return false;
}

/** Any other config: the same text with only the changed values replaced. */
function preserveUnknown(input: JsonObject, changes: OutputConfigChanges): JsonObject {
  const c: JsonObject = new Map(input);
  if (changes.dtype !== null) {
    let set = false;
    for (const k of ["dtype", "torch_dtype"]) if (c.has(k)) (c.set(k, changes.dtype), (set = true));
    const text = c.get("text_config");
    if (isJsonObject(text) && (text.has("dtype") || text.has("torch_dtype"))) {
      const copy = new Map(text);
      for (const k of ["dtype", "torch_dtype"]) if (copy.has(k)) copy.set(k, changes.dtype);
      c.set("text_config", copy);
    }
    if (!set) c.set("torch_dtype", changes.dtype);
  }
  if (changes.vocabSize != null && !setNested(c, "vocab_size", int(changes.vocabSize))) c.set("vocab_size", int(changes.vocabSize));
  if (changes.numHiddenLayers != null && !setNested(c, "num_hidden_layers", int(changes.numHiddenLayers))) c.set("num_hidden_layers", int(changes.numHiddenLayers));
  return c;
}

function detectIndent(text: string): number {
  const m = /\n( +)\S/.exec(text);
  return m ? m[1]!.length : 2;
}

export interface OutputConfig {
  text: string;
  /** "transformers": normalised like transformers 5.18 (known model type); "preserved": input text kept. */
  mode: "transformers" | "preserved";
}

/** The output config.json text for the base model's config text. */
export function outputConfigJson(inputText: string, changes: OutputConfigChanges, file = "config.json"): OutputConfig {
  const input = parseConfig(inputText, file);
  const modelType = input.get("model_type");
  const cls = typeof modelType === "string" ? CONFIG_CLASSES[modelType] : undefined;
  if (cls) {
    return { text: `${dumpJsonLiteral(normalizeKnown(input, cls, modelType as string, changes), { indent: 1, sortKeys: true, numbers: "python" })}\n`, mode: "transformers" };
  }
  const text = dumpJsonLiteral(preserveUnknown(input, changes), { indent: detectIndent(inputText), numbers: "literal" });
  return { text: inputText.endsWith("\n") ? `${text}\n` : text, mode: "preserved" };
}
