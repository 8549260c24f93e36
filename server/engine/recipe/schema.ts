// The shape of a mergekit recipe as MergeScope accepts it (zod), and the translation of
// zod issues into messages that name the YAML path and the offending value. Schemas only
// check types and ranges; which keys make sense for which method is decided in parse.ts.
import { z } from "zod";
import { describeValue, yamlPathString, type RecipeIssue } from "./errors";
import { LIST_PARAMETER_MESSAGE, MAPPING_PARAMETER_MESSAGE, OTHER_METHOD_PARAMETERS } from "./unsupported";
import { MERGE_METHODS, RECIPE_DTYPES } from "./types";

// Each schema's error text is the *expectation*; formatZodIssue adds ", got <value>".
const expecting = (what: string) => ({ error: () => what });

const IN_0_1 = "a number in [0, 1]";
const number = () => z.number(expecting("a finite number"));
const fraction = () => z.number(expecting(IN_0_1)).min(0, expecting(IN_0_1)).max(1, expecting(IN_0_1));
const boolean = () => z.boolean(expecting("true or false"));
const SEED = "an integer in [0, 2^53)";
const seed = () => z.number(expecting(SEED)).int(expecting(SEED)).min(0, expecting(SEED)).max(Number.MAX_SAFE_INTEGER, expecting(SEED));
const dtype = () => z.enum(RECIPE_DTYPES as [string, ...string[]], expecting(RECIPE_DTYPES.join(" | ")));

export const MODEL_PARAMETER_KEYS = ["weight", "density", "gamma", "favored"] as const;
export const GLOBAL_PARAMETER_KEYS = [
  "seed",
  "keep_if_no_outliers",
  "filter_wise",
  "gamma",
  "normalize",
  "lambda",
  "rescale",
  "int8_mask",
  "t",
  "consensus",
  "slack",
  "slack_scope",
  "weight",
  "density",
] as const;

const ModelParameters = z
  .strictObject({
    weight: number().optional(),
    density: fraction().optional(),
    gamma: fraction().optional(),
    favored: boolean().optional(),
  })
  .nullish();

/**
 * A model reference: `PATH`, `ORG/NAME@REV`, `MODEL+LORA`, or mergekit's object form
 * `{model, lora}`; resolved (and its keys checked) by model-ref/parse-ref.ts.
 */
const modelRef = () =>
  z.union(
    [z.string(expecting("a model path string")).min(1, expecting("a non-empty model path")), z.record(z.string(), z.unknown())],
    expecting("a model path string (or {model: PATH, lora: PATH})"),
  );

const ModelEntry = z.strictObject({
  model: modelRef(),
  parameters: ModelParameters,
});

/** mergekit's TokenEmbeddingConfig source: a model, {kind: zero} or {kind: model_token, model, token_id | token}. */
const TokenEmbedding = z.strictObject({
  source: z.union([z.string().min(1), z.record(z.string(), z.unknown())], expecting("a model reference or {kind: zero | model_token, ...}")).nullish(),
  force: boolean().optional(),
});

const TokenizerBlock = z.strictObject({
  source: modelRef().optional(),
  tokens: z.record(z.string(), TokenEmbedding, expecting("a mapping of token → {source, force}")).nullish(),
  pad_to_multiple_of: z.number(expecting("a positive integer")).int(expecting("a positive integer")).min(1, expecting("a positive integer")).nullish(),
});

const GlobalParameters = z
  .strictObject({
    normalize: boolean().optional(),
    lambda: number().optional(),
    rescale: boolean().optional(),
    int8_mask: boolean().optional(),
    t: fraction().optional(),
    consensus: z.enum(["sum", "count"], expecting("sum | count")).optional(),
    slack: fraction().optional(),
    slack_scope: z.enum(["model", "tensor"], expecting("model | tensor")).optional(),
    seed: seed().optional(),
    keep_if_no_outliers: boolean().optional(),
    filter_wise: boolean().optional(),
    // mergekit lets per-model parameters be given once for all models here.
    weight: number().optional(),
    density: fraction().optional(),
    gamma: fraction().optional(),
  })
  .nullish();

export const RecipeSchema = z.strictObject({
  merge_method: z.enum(MERGE_METHODS, expecting(MERGE_METHODS.join(" | "))),
  base_model: modelRef().nullish(),
  models: z.array(ModelEntry, expecting("a list of `- model: PATH` entries")).min(1, expecting("at least one model")),
  parameters: GlobalParameters,
  dtype: dtype().nullish(),
  out_dtype: dtype().nullish(),
  /** dare_*: also accepted under `parameters:` */
  seed: seed().nullish(),
  /** `base`, `union` or a model reference (mergekit; recipe/tokenizer.ts). */
  tokenizer_source: modelRef().nullish(),
  tokenizer: TokenizerBlock.nullish(),
});

export type RawRecipe = z.infer<typeof RecipeSchema>;

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

const SUPPORTED_KEYS: Record<string, readonly string[]> = {
  "": ["merge_method", "base_model", "models", "parameters", "dtype", "out_dtype", "seed", "tokenizer_source", "tokenizer"],
  tokenizer: ["source", "tokens", "pad_to_multiple_of"],
  parameters: GLOBAL_PARAMETER_KEYS,
  "models[]": ["model", "parameters"],
  "models[].parameters": MODEL_PARAMETER_KEYS,
};

function unknownKeyMessage(path: readonly PropertyKey[], key: string): string {
  const method = OTHER_METHOD_PARAMETERS[key];
  if (method) return `parameter \`${key}\` belongs to mergekit's \`${method}\` method, which MergeScope does not support; remove it`;
  // "models[3].parameters" -> "models[].parameters"
  const supported = SUPPORTED_KEYS[yamlPathString(path).replace(/\[\d+\]/g, "[]")];
  return `unknown key \`${key}\`${supported ? ` (supported here: ${supported.join(", ")})` : ""}`;
}

/** One zod issue → one or more RecipeIssues (unrecognized_keys lists several keys). */
export function formatZodIssue(issue: z.core.$ZodIssue, raw: unknown, lineOf: (path: PropertyKey[]) => number | null): RecipeIssue[] {
  const path = issue.path as PropertyKey[];
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      path: yamlPathString([...path, key]),
      line: lineOf([...path, key]),
      message: unknownKeyMessage(path, key),
    }));
  }
  const value = valueAt(raw, path);
  const inParameters = path.includes("parameters");
  let message: string;
  if (inParameters && Array.isArray(value)) message = LIST_PARAMETER_MESSAGE;
  else if (inParameters && value !== null && typeof value === "object") message = MAPPING_PARAMETER_MESSAGE;
  else message = `expected ${issue.message}, got ${describeValue(value)}`;
  return [{ path: yamlPathString(path), line: lineOf(path), message }];
}
