// The shape of a mergekit recipe as MergeScope accepts it (zod), and the translation of
// zod issues into messages that name the YAML path and the offending value. Schemas only
// check types and ranges; which keys make sense for which method is decided in parse.ts.
import { z } from "zod";
import { describeValue, yamlPathString, type RecipeIssue } from "./errors";
import { OTHER_METHOD_PARAMETERS } from "./unsupported";
import { RANDOM_STREAMS, TIE_ORDERS } from "../types";
import { MERGE_METHODS, RECIPE_DTYPES, type ParamCondition, type ParamSpec } from "./types";

// Each schema's error text is the *expectation*; formatZodIssue adds ", got <value>".
const expecting = (what: string) => ({ error: () => what });

const IN_0_1 = "a number in [0, 1]";
const number = () => z.number(expecting("a finite number"));
const fraction = () => z.number(expecting(IN_0_1)).min(0, expecting(IN_0_1)).max(1, expecting(IN_0_1));
const boolean = () => z.boolean(expecting("true or false"));
const SEED = "an integer in [0, 2^53)";
const seed = () => z.number(expecting(SEED)).int(expecting(SEED)).min(0, expecting(SEED)).max(Number.MAX_SAFE_INTEGER, expecting(SEED));
const NON_NEGATIVE = "a number >= 0";
const nonNegative = () => z.number(expecting(NON_NEGATIVE)).min(0, expecting(NON_NEGATIVE));
const COUNT = "an integer in [0, 100000]";
const count = () => z.number(expecting(COUNT)).int(expecting(COUNT)).min(0, expecting(COUNT)).max(100_000, expecting(COUNT));
const dtype = () => z.enum(RECIPE_DTYPES as [string, ...string[]], expecting(RECIPE_DTYPES.join(" | ")));
const tieOrder = () => z.enum(TIE_ORDERS as [string, ...string[]], expecting(TIE_ORDERS.join(" | ")));
const randomStream = () => z.enum(RANDOM_STREAMS as [string, ...string[]], expecting(RANDOM_STREAMS.join(" | ")));

export const MODEL_PARAMETER_KEYS = ["weight", "density", "gamma", "epsilon", "scale", "favored"] as const;
export const GLOBAL_PARAMETER_KEYS = [
  "seed",
  "random",
  "tie_order",
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
  "epsilon",
  "scale",
  // sce, nuslerp, multislerp, karcher (newer-methods.ts)
  "select_topk",
  "nuslerp_flatten",
  "nuslerp_row_wise",
  "normalize_weights",
  "eps",
  "max_iter",
  "tol",
] as const;

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * Why `v` is not a valid numeric parameter (a number, a gradient list of numbers, or a list of
 * `{filter, value}` conditions whose value is a number or a gradient), or null when it is.
 */
function paramSpecProblem(v: unknown, inRange: (x: number) => boolean, what: string): string | null {
  const gradient = (g: unknown[], where: string): string | null => {
    if (g.length === 0) return `${where}is an empty list; give at least one value`;
    const bad = g.findIndex((x) => !isNum(x) || !inRange(x));
    return bad < 0 ? null : `${where}gradient value [${bad}] must be ${what}, got ${describeValue(g[bad])}`;
  };
  if (isNum(v)) return inRange(v) ? null : `expected ${what}, got ${describeValue(v)}`;
  if (!Array.isArray(v)) return `expected ${what}, got ${describeValue(v)}`;
  if (v.length === 0) return "an empty list; give a number, a gradient or `{filter, value}` conditions";
  if (!v.some((x) => x !== null && typeof x === "object" && !Array.isArray(x))) return gradient(v, "");
  for (const [i, c] of v.entries()) {
    if (c === null || typeof c !== "object" || Array.isArray(c)) {
      return `condition [${i}] must be a mapping \`{filter: NAME, value: V}\` (a list mixes conditions and plain values), got ${describeValue(c)}`;
    }
    const extra = Object.keys(c).filter((k) => k !== "filter" && k !== "value");
    if (extra.length > 0) return `condition [${i}]: unknown key \`${extra[0]}\` (a condition has \`filter\` and \`value\`)`;
    const { filter, value } = c as { filter?: unknown; value?: unknown };
    if (filter !== undefined && filter !== null && typeof filter !== "string") {
      return `condition [${i}]: \`filter\` must be a tensor-name substring, got ${describeValue(filter)}`;
    }
    if (Array.isArray(value)) {
      const p = gradient(value, `condition [${i}]: \`value\` `);
      if (p) return p;
    } else if (!isNum(value) || !inRange(value)) {
      return `condition [${i}]: \`value\` must be ${what} or a gradient list, got ${describeValue(value)}`;
    }
  }
  return null;
}

/** The spec with conditions in canonical form (`filter` null when absent). */
function normalizeSpec(v: unknown): ParamSpec {
  if (isNum(v)) return v;
  const list = v as unknown[];
  if (!list.some((x) => x !== null && typeof x === "object" && !Array.isArray(x))) return [...(list as number[])];
  return (list as { filter?: string | null; value: number | number[] }[]).map(
    (c): ParamCondition => ({ filter: c.filter ?? null, value: Array.isArray(c.value) ? [...c.value] : c.value }),
  );
}

/** A numeric parameter that accepts gradients and filter lists. */
const spec = (inRange: (x: number) => boolean, what: string) =>
  z
    .unknown()
    .superRefine((v, ctx) => {
      const problem = paramSpecProblem(v, inRange, what);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .transform(normalizeSpec);
const numberSpec = () => spec(() => true, "a finite number");
const fractionSpec = () => spec((x) => x >= 0 && x <= 1, IN_0_1);

const ModelParameters = z
  .strictObject({
    weight: numberSpec().optional(),
    density: fractionSpec().optional(),
    gamma: fractionSpec().optional(),
    epsilon: fractionSpec().optional(),
    scale: numberSpec().optional(),
    favored: boolean().optional(),
  })
  .nullish();

const modelPath = () => z.string(expecting("a model path string")).min(1, expecting("a non-empty model path"));
/**
 * A model reference: `PATH`, `ORG/NAME@REV`, `MODEL+LORA`, or mergekit's object form
 * `{model, lora}`; resolved (and its keys checked) by model-ref/parse-ref.ts.
 */
const modelRef = () =>
  z.union([modelPath(), z.record(z.string(), z.unknown())], expecting("a model path string (or {model: PATH, lora: PATH})"));

const ModelEntry = z.strictObject({
  model: modelRef(),
  parameters: ModelParameters,
});

const LAYER_RANGE = "[start, end]: two integers with 0 <= start < end (end exclusive)";
const SliceSource = z.strictObject({
  model: modelPath(),
  layer_range: z
    .tuple([z.number().int().min(0), z.number().int().min(0)], expecting(LAYER_RANGE))
    .refine(([a, b]) => a < b, expecting(LAYER_RANGE)),
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
    lambda: numberSpec().optional(),
    rescale: boolean().optional(),
    int8_mask: boolean().optional(),
    t: fractionSpec().optional(),
    consensus: z.enum(["sum", "count"], expecting("sum | count")).optional(),
    slack: fraction().optional(),
    slack_scope: z.enum(["model", "tensor"], expecting("model | tensor")).optional(),
    seed: seed().optional(),
    random: randomStream().optional(),
    tie_order: tieOrder().optional(),
    keep_if_no_outliers: boolean().optional(),
    filter_wise: boolean().optional(),
    // mergekit lets per-model parameters be given once for all models here.
    weight: numberSpec().optional(),
    density: fractionSpec().optional(),
    gamma: fractionSpec().optional(),
    epsilon: fractionSpec().optional(),
    scale: numberSpec().optional(),
    select_topk: fraction().optional(),
    nuslerp_flatten: boolean().optional(),
    nuslerp_row_wise: boolean().optional(),
    normalize_weights: boolean().optional(),
    eps: nonNegative().optional(),
    max_iter: count().optional(),
    tol: nonNegative().optional(),
  })
  .nullish();

const Slice = z.strictObject({
  sources: z.array(SliceSource, expecting("a list of `- model: PATH` + `layer_range: [start, end]` entries")).min(1, expecting("at least one source")),
  parameters: GlobalParameters,
});

export const RecipeSchema = z.strictObject({
  merge_method: z.enum(MERGE_METHODS, expecting(MERGE_METHODS.join(" | "))),
  base_model: modelRef().nullish(),
  models: z.array(ModelEntry, expecting("a list of `- model: PATH` entries")).min(1, expecting("at least one model")).nullish(),
  slices: z.array(Slice, expecting("a list of `- sources: [...]` entries")).min(1, expecting("at least one slice")).nullish(),
  parameters: GlobalParameters,
  dtype: dtype().nullish(),
  out_dtype: dtype().nullish(),
  /** dare_*, della*: also accepted under `parameters:` (as are `random` and `tie_order`) */
  seed: seed().nullish(),
  random: randomStream().nullish(),
  tie_order: tieOrder().nullish(),
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
  "": ["merge_method", "base_model", "models", "slices", "parameters", "dtype", "out_dtype", "seed", "random", "tie_order", "tokenizer_source", "tokenizer"],
  tokenizer: ["source", "tokens", "pad_to_multiple_of"],
  parameters: GLOBAL_PARAMETER_KEYS,
  "models[]": ["model", "parameters"],
  "models[].parameters": MODEL_PARAMETER_KEYS,
  "slices[]": ["sources", "parameters"],
  "slices[].parameters": GLOBAL_PARAMETER_KEYS,
  "slices[].sources[]": ["model", "layer_range", "parameters"],
  "slices[].sources[].parameters": MODEL_PARAMETER_KEYS,
};

function unknownKeyMessage(path: readonly PropertyKey[], key: string): string {
  const method = Object.hasOwn(OTHER_METHOD_PARAMETERS, key) ? OTHER_METHOD_PARAMETERS[key] : undefined;
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
  // Parameter specs (gradients, filters) phrase their whole message themselves.
  const message = issue.code === "custom" ? issue.message : `expected ${issue.message}, got ${describeValue(value)}`;
  return [{ path: yamlPathString(path), line: lineOf(path), message }];
}
