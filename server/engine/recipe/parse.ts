// mergekit YAML → Recipe. Three passes: (1) YAML syntax, (2) mergekit features MergeScope
// rejects by name, (3) zod types and ranges, then (4) per-method rules and mergekit's
// defaults. Every problem found in a pass is reported together, each with its YAML path.
import path from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from "yaml";
import type { MergeMethod } from "../types";
import { RecipeError, describeValue, yamlPathString, type RecipeIssue } from "./errors";
import { formatZodIssue, RecipeSchema, type RawRecipe } from "./schema";
import {
  ELECTION_METHODS,
  MERGE_METHODS,
  TRIM_METHODS,
  WEIGHTED_METHODS,
  type Recipe,
  type RecipeDtype,
  type RecipeModel,
} from "./types";
import { ModelRefError, resolveModelRef, type ResolvedModelRef } from "../model-ref/parse-ref";
import { parseTokenizerSettings } from "./tokenizer";
import { KNOWN_UNSUPPORTED_METHODS, UNSUPPORTED_TOP_LEVEL_KEYS } from "./unsupported";

export interface ParseRecipeOptions {
  /** Folder relative model paths are resolved against (the recipe file's folder). */
  recipeDir: string;
  /** Hugging Face hub cache for `org/name` references; default HF_HUB_CACHE / HF_HOME / ~/.cache/huggingface/hub. */
  hfCacheDir?: string;
}

/** Methods relative to a base model; the base model itself is never one of the merged models. */
const BASED_METHODS: ReadonlySet<MergeMethod> = new Set(MERGE_METHODS.filter((m) => m !== "linear"));
const BREADCRUMBS: ReadonlySet<MergeMethod> = new Set(["breadcrumbs", "breadcrumbs_ties"]);
const DARE: ReadonlySet<MergeMethod> = new Set(["dare_linear", "dare_ties"]);
/** mergekit's `normalize` default per method (generalized task arithmetic registry). */
const NORMALIZE_DEFAULT: ReadonlySet<MergeMethod> = new Set(["linear", "ties", "ties_sv"]);

type YamlPath = PropertyKey[];

export function parseRecipeYaml(text: string, opts: ParseRecipeOptions): Recipe {
  if (typeof text !== "string") throw new TypeError(`expected a string for recipe text, got ${describeValue(text)}`);
  if (typeof opts?.recipeDir !== "string" || opts.recipeDir === "") {
    throw new TypeError(`expected a directory path for recipeDir, got ${describeValue(opts?.recipeDir)}`);
  }
  const { doc, lineOf } = parseYaml(text);
  const raw: unknown = doc.toJS({ maxAliasCount: 1000 });
  rejectUnsupported(raw, lineOf);
  const parsed = RecipeSchema.safeParse(raw);
  if (!parsed.success) {
    throw new RecipeError(parsed.error.issues.flatMap((i) => formatZodIssue(i, raw, lineOf)));
  }
  return { ...applyMethodRules(parsed.data, { recipeDir: path.resolve(opts.recipeDir), hfCacheDir: opts.hfCacheDir }, lineOf), sourceText: text };
}

function parseYaml(text: string): { doc: Document; lineOf: (p: YamlPath) => number | null } {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(docs) || docs.length === 0) {
    throw new RecipeError([{ path: "", line: null, message: "the recipe is empty; it needs at least `merge_method:` and `models:`" }]);
  }
  if (docs.length > 1) {
    throw new RecipeError([
      { path: "", line: null, message: `the recipe holds ${docs.length} YAML documents (separated by \`---\`); give one merge per recipe` },
    ]);
  }
  const doc = docs[0]!;
  // Only the first syntax error: the following ones are usually its consequences.
  const syntax = doc.errors[0];
  if (syntax) {
    const at = syntax.pos?.[0] === undefined ? null : lineCounter.linePos(syntax.pos[0]);
    throw new RecipeError([
      {
        path: "",
        line: at?.line ?? null,
        message: `invalid YAML${at ? ` at line ${at.line}, column ${at.col}` : ""}: ${syntax.message.split("\n")[0]}`,
      },
    ]);
  }
  // Line of the deepest node of `p` that exists (map keys point at the key's line).
  const lineOf = (p: YamlPath): number | null => {
    let node: unknown = doc.contents;
    let offset: number | null = null;
    for (const step of p) {
      if (isMap(node)) {
        const pair = node.items.find((it) => (isScalar(it.key) ? it.key.value : it.key) === step);
        if (!pair) break;
        const keyStart = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
        if (keyStart !== undefined) offset = keyStart;
        node = pair.value;
      } else if (isSeq(node) && typeof step === "number") {
        node = node.items[step];
        const range = (node as { range?: [number, number, number] } | undefined)?.range;
        if (!range) break;
        offset = range[0];
      } else break;
    }
    return offset === null ? null : lineCounter.linePos(offset).line;
  };
  return { doc, lineOf };
}

/** mergekit features that are valid for mergekit but not (yet) for MergeScope, named explicitly. */
function rejectUnsupported(raw: unknown, lineOf: (p: YamlPath) => number | null): void {
  const issue = (p: YamlPath, message: string): RecipeIssue => ({ path: yamlPathString(p), line: lineOf(p), message });
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new RecipeError([
      { path: "", line: null, message: `a recipe must be a YAML mapping with \`merge_method:\` and \`models:\`, got ${describeValue(raw)}` },
    ]);
  }
  const r = raw as Record<string, unknown>;
  const issues: RecipeIssue[] = [];
  for (const key of Object.keys(r)) {
    const why = UNSUPPORTED_TOP_LEVEL_KEYS[key];
    if (why) issues.push(issue([key], why));
  }
  const method = r.merge_method;
  if (typeof method === "string" && (KNOWN_UNSUPPORTED_METHODS as readonly string[]).includes(method)) {
    issues.push(
      issue(["merge_method"], `mergekit method \`${method}\` is not supported by MergeScope yet (supported: ${MERGE_METHODS.join(", ")})`),
    );
  }
  if (issues.length > 0) throw new RecipeError(issues);
}

/** A model and its LoRA as one identity (the same model with and without an adapter are two models). */
export function modelIdentity(ref: { path: string; lora?: { path: string } | null }): string {
  return ref.lora ? `${ref.path}+${ref.lora.path}` : ref.path;
}

function applyMethodRules(
  raw: RawRecipe,
  refOpts: { recipeDir: string; hfCacheDir?: string },
  lineOf: (p: YamlPath) => number | null,
): Recipe {
  const method = raw.merge_method as MergeMethod;
  const g = raw.parameters ?? {};
  const issues: RecipeIssue[] = [];
  const notes: string[] = [];
  const fail = (p: YamlPath, message: string) => issues.push({ path: yamlPathString(p), line: lineOf(p), message });
  const usesTaskVectors = BASED_METHODS.has(method);
  const trims = TRIM_METHODS.includes(method);
  const elects = ELECTION_METHODS.includes(method);
  const weighted = WEIGHTED_METHODS.includes(method);

  const resolveAt = (p: YamlPath, v: unknown): ResolvedModelRef | null => {
    try {
      return resolveModelRef(v, refOpts);
    } catch (err) {
      if (err instanceof ModelRefError) {
        fail(p, err.message);
        return null;
      }
      throw err;
    }
  };
  const baseRef = raw.base_model == null ? null : resolveAt(["base_model"], raw.base_model);
  const baseSource = baseRef?.model.source ?? null;
  const basePath = baseRef?.model.path ?? null;
  const baseId = baseRef ? modelIdentity({ path: baseRef.model.path, lora: baseRef.lora }) : null;
  if (usesTaskVectors && basePath === null) {
    fail(["base_model"], `required for merge_method \`${method}\` (task vectors are taken relative to it); add \`base_model: PATH\``);
  }

  const models: RecipeModel[] = [];
  const seen = new Map<string, number>();
  let baseListed = false;
  raw.models.forEach((entry, i) => {
    const p = entry.parameters ?? {};
    const ref = resolveAt(["models", i, "model"], entry.model);
    if (ref === null) return;
    const resolved = modelIdentity({ path: ref.model.path, lora: ref.lora });
    const written = typeof entry.model === "string" ? entry.model : resolved;
    if (usesTaskVectors && resolved === baseId) {
      baseListed = true;
      notes.push(
        `models[${i}] (\`${written}\`) is the base model; it is left out of the task vectors, as mergekit does` +
          (entry.parameters ? " (its parameters are not used)" : ""),
      );
      return;
    }
    if (method === "linear" && resolved === baseId) baseListed = true;
    const first = seen.get(resolved);
    if (first !== undefined) {
      fail(["models", i, "model"], `same model as models[${first}] (\`${resolved}\`); list each model once`);
      return;
    }
    seen.set(resolved, i);

    let weight = p.weight ?? g.weight;
    if (!weighted) {
      if (p.weight !== undefined) notes.push(`models[${i}]: \`weight\` has no effect on ${method}; ignored`);
      weight = 1;
    } else if (weight === undefined) {
      weight = 1;
      notes.push(`models[${i}]: no \`weight\` given; using 1.0 (mergekit requires \`weight\` for ${method})`);
    }
    let density = p.density ?? g.density ?? 1;
    if (!trims && density !== 1) {
      notes.push(`models[${i}]: \`density\` has no effect on ${method} (only ${TRIM_METHODS.join(", ")} trim task vectors); ignored`);
      density = 1;
    }
    let gamma = p.gamma ?? g.gamma ?? 0.01;
    if (!BREADCRUMBS.has(method)) {
      if (p.gamma !== undefined) notes.push(`models[${i}]: \`gamma\` is a breadcrumbs parameter; it has no effect on ${method}`);
      gamma = 0.01;
    }
    const favored = p.favored ?? false;
    if (p.favored !== undefined && method !== "ties_sv") {
      fail(["models", i, "parameters", "favored"], "`favored` is a ties_sv parameter; remove it or use `merge_method: ties_sv`");
    }
    models.push({ path: ref.model.path, source: ref.model.source, weight, density, gamma, favored, hf: ref.model.hf, lora: ref.lora });
  });

  if (method === "linear" && basePath !== null && !baseListed) {
    fail(
      ["base_model"],
      "merge_method `linear` does not use a base model; remove `base_model`, or list that model under `models:` with a weight to include it in the average",
    );
  }
  if (issues.length === 0 && models.length === 0) {
    fail(["models"], "no models left to merge: every entry is the base model; add the models whose task vectors should be merged");
  }
  if (issues.length === 0 && method === "slerp" && models.length !== 1) {
    fail(["models"], `slerp interpolates base_model and exactly one other model; found ${models.length} besides the base`);
  }
  if (issues.length === 0 && method === "model_stock" && models.length < 2) {
    fail(["models"], `model_stock needs at least two models besides base_model; found ${models.length}`);
  }

  const interpolates = method === "slerp" || method === "model_stock";
  if (interpolates) {
    for (const key of ["normalize", "lambda"] as const) {
      if (g[key] !== undefined) notes.push(`\`${key}\` has no effect on ${method}; ignored`);
    }
  }
  const normalize = g.normalize ?? NORMALIZE_DEFAULT.has(method);
  let lambda = g.lambda ?? 1;
  if (method === "linear" && g.lambda !== undefined) {
    if (g.lambda !== 1) notes.push("`lambda` has no effect on linear (mergekit's linear does not scale); ignored");
    lambda = 1;
  }

  if (interpolates) lambda = 1;
  if (g.consensus !== undefined && !elects) {
    fail(["parameters", "consensus"], `\`consensus\` only applies to ${ELECTION_METHODS.join(", ")}; remove it`);
  }
  if (method === "ties_sv" && g.consensus === "count") {
    fail(["parameters", "consensus"], "ties_sv requires consensus `sum` (lost elections are ranked by their sum margin); remove it or set `sum`");
  }
  for (const key of ["slack", "slack_scope"] as const) {
    if (g[key] !== undefined && method !== "ties_sv") {
      fail(["parameters", key], `\`${key}\` is a ties_sv parameter; remove it or use \`merge_method: ties_sv\``);
    }
  }
  if (method === "ties_sv") {
    if (g.slack === undefined) {
      fail(
        ["parameters", "slack"],
        "required for ties_sv: the fraction in [0, 1] of the favored model's kept entries whose lost sign elections may be rescued (the paper uses 0.04)",
      );
    }
    const favored = models.filter((m) => m.favored);
    if (favored.length !== 1) {
      const which = raw.models.flatMap((m, i) => (m.parameters?.favored ? [`models[${i}]`] : []));
      fail(
        ["models"],
        `ties_sv needs exactly one model with \`favored: true\` (the SFT model whose lost sign elections may be rescued); found ${favored.length}${which.length > 0 ? ` (${which.join(", ")})` : ""}`,
      );
    }
  }

  const rescale = g.rescale ?? DARE.has(method);
  if (g.rescale === true && !DARE.has(method)) {
    if (trims && models.some((m) => m.density < 1)) {
      fail(
        ["parameters", "rescale"],
        `\`rescale: true\` (mergekit then rescales each trimmed task vector to keep its L1 norm) is supported for dare_linear and dare_ties only; remove it or set it to false`,
      );
    } else {
      notes.push("`rescale: true` has no effect here (no task vector is trimmed)");
    }
  }
  if (raw.seed != null && g.seed !== undefined && raw.seed !== g.seed) {
    fail(["seed"], `given twice with different values (${raw.seed} here, ${g.seed} under parameters); keep one`);
  }
  const seed = raw.seed ?? g.seed ?? 0;
  if ((raw.seed != null || g.seed !== undefined) && !DARE.has(method)) notes.push(`\`seed\` only affects dare_linear and dare_ties; it has no effect on ${method}`);
  if (g.keep_if_no_outliers !== undefined && !BREADCRUMBS.has(method)) {
    notes.push(`\`keep_if_no_outliers\` is a breadcrumbs parameter; it has no effect on ${method}`);
  }
  if (g.filter_wise !== undefined && method !== "model_stock") notes.push(`\`filter_wise\` is a model_stock parameter; it has no effect on ${method}`);
  if (method === "slerp" && g.t === undefined) {
    fail(["parameters", "t"], "required for slerp: the interpolation factor in [0, 1] from base_model (0) to the other model (1)");
  }
  const int8Mask = g.int8_mask ?? false;
  if (int8Mask) notes.push("`int8_mask` only changes mergekit's memory use; results are identical, so it is ignored");
  if (g.t !== undefined && method !== "slerp") notes.push(`\`t\` is a slerp parameter; it has no effect on ${method}`);
  if (method === "linear" && basePath !== null) {
    notes.push("linear: `base_model` is one of the averaged models; config.json and the tokenizer are copied from it");
  }

  const tokenizer = parseTokenizerSettings(raw, {
    resolve: resolveAt,
    models: [...(baseRef ? [{ path: baseRef.model.path, source: baseRef.model.source, lora: baseRef.lora }] : []), ...models.map((m) => ({ path: m.path, source: m.source, lora: m.lora ?? null }))],
    fail,
  });

  if (issues.length > 0) throw new RecipeError(issues);
  return {
    method,
    basePath,
    baseSource,
    baseHf: baseRef?.model.hf ?? null,
    baseLora: baseRef?.lora ?? null,
    tokenizer,
    models,
    normalize,
    lambda,
    consensus: elects ? (g.consensus ?? "sum") : "sum",
    rescale,
    seed,
    keepIfNoOutliers: BREADCRUMBS.has(method) ? (g.keep_if_no_outliers ?? false) : false,
    t: method === "slerp" ? g.t! : 0,
    filterWise: method === "model_stock" ? (g.filter_wise ?? false) : false,
    int8Mask,
    slack: method === "ties_sv" ? g.slack! : 0,
    slackScope: method === "ties_sv" ? (g.slack_scope ?? "model") : "model",
    dtype: (raw.dtype ?? null) as RecipeDtype | null,
    outDtype: (raw.out_dtype ?? null) as RecipeDtype | null,
    notes,
  };
}
