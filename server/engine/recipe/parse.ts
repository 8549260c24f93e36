// mergekit YAML → Recipe. Three passes: (1) YAML syntax, (2) mergekit features MergeScope
// rejects by name, (3) zod types and ranges, then (4) per-method rules and mergekit's
// defaults. Every problem found in a pass is reported together, each with its YAML path.
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from "yaml";
import { LIMITS } from "../../limits";
import { PathError } from "../../paths/errors";
import { normalizePath } from "../../paths/normalize";
import { BASE_OPTIONAL_METHODS, type MergeMethod, type RandomStream, type TieOrder } from "../types";
import { RecipeError, describeValue, yamlPathString, type RecipeIssue } from "./errors";
import { representativeValue } from "./param-spec";
import { formatZodIssue, RecipeSchema, type RawRecipe } from "./schema";
import {
  DELLA_METHODS,
  ELECTION_METHODS,
  MERGE_METHODS,
  RANDOM_METHODS,
  RANKING_METHODS,
  TRIM_METHODS,
  WEIGHTED_METHODS,
  type ParamSpec,
  type ParamSpecs,
  type Recipe,
  type RecipeDtype,
  type RecipeModel,
  type RecipeSlice,
} from "./types";
import { ModelRefError, resolveModelRef, type ResolvedModelRef } from "../model-ref/parse-ref";
import { baseEntryRule, isNewerMethod, newerMethodCountProblem, newerMethodNotes, newerMethodValues } from "./newer-methods";
import { parseTokenizerSettings } from "./tokenizer";
import { KNOWN_UNSUPPORTED_METHODS, UNSUPPORTED_TOP_LEVEL_KEYS } from "./unsupported";

export interface ParseRecipeOptions {
  /** Folder relative model paths are resolved against (the recipe file's folder). */
  recipeDir: string;
  /** Hugging Face hub cache for `org/name` references; default HF_HUB_CACHE / HF_HOME / ~/.cache/huggingface/hub. */
  hfCacheDir?: string;
}

/** Methods relative to a base model; the base model itself is never one of the merged models. */
const BASED_METHODS: ReadonlySet<MergeMethod> = new Set(MERGE_METHODS.filter((m) => m !== "linear" && m !== "passthrough"));
/** Methods that also run without a base model. */
const BASE_OPTIONAL: ReadonlySet<MergeMethod> = new Set(BASE_OPTIONAL_METHODS);
const BREADCRUMBS: ReadonlySet<MergeMethod> = new Set(["breadcrumbs", "breadcrumbs_ties"]);
const DARE: ReadonlySet<MergeMethod> = new Set(["dare_linear", "dare_ties"]);
const DELLA: ReadonlySet<MergeMethod> = new Set(DELLA_METHODS);
const RANDOM: ReadonlySet<MergeMethod> = new Set(RANDOM_METHODS);
/** mergekit's `normalize` default per method (generalized task arithmetic registry). */
const NORMALIZE_DEFAULT: ReadonlySet<MergeMethod> = new Set(["linear", "ties", "ties_sv", "della"]);
/** mergekit's della_magprune default. */
const DEFAULT_EPSILON = 0.15;

type YamlPath = PropertyKey[];

export function parseRecipeYaml(text: string, opts: ParseRecipeOptions): Recipe {
  if (typeof text !== "string") throw new TypeError(`expected a string for recipe text, got ${describeValue(text)}`);
  if (typeof opts?.recipeDir !== "string" || opts.recipeDir === "") {
    throw new TypeError(`expected a directory path for recipeDir, got ${describeValue(opts?.recipeDir)}`);
  }
  // Refused before parsing: the YAML parser's time and memory grow with the text.
  const bytes = Buffer.byteLength(text);
  if (bytes > LIMITS.recipeBytes) {
    throw new RecipeError([
      { path: "", line: null, message: `the recipe is ${bytes} bytes, above the ${LIMITS.recipeBytes}-byte limit for a recipe (a mergekit recipe is a few KiB); it was not parsed` },
    ]);
  }
  let recipeDir: string;
  try {
    recipeDir = normalizePath(opts.recipeDir, "recipe folder");
  } catch (err) {
    if (err instanceof PathError) throw new RecipeError([{ path: "", line: null, message: err.message }]);
    throw err;
  }
  const { doc, lineOf } = parseYaml(text);
  const raw = toJs(doc);
  rejectUnsupported(raw, lineOf);
  const parsed = RecipeSchema.safeParse(raw);
  if (!parsed.success) {
    throw new RecipeError(parsed.error.issues.flatMap((i) => formatZodIssue(i, raw, lineOf)));
  }
  return { ...applyMethodRules(parsed.data, { recipeDir, hfCacheDir: opts.hfCacheDir }, lineOf), sourceText: text };
}

/** The document as plain data; alias expansion is capped (an alias bomb is a recipe error, not a crash). */
function toJs(doc: Document): unknown {
  try {
    return doc.toJS({ maxAliasCount: LIMITS.yamlAliases });
  } catch (err) {
    if (err instanceof ReferenceError) {
      throw new RecipeError([
        {
          path: "",
          line: null,
          message: `the recipe's YAML aliases (*name) expand to more than ${LIMITS.yamlAliases} copies (a "billion laughs" document?); write the values out instead of aliasing them`,
        },
      ]);
    }
    throw err;
  }
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
    // Own keys only: `constructor` or `__proto__` in a recipe are unknown keys, not Object's.
    const why = Object.hasOwn(UNSUPPORTED_TOP_LEVEL_KEYS, key) ? UNSUPPORTED_TOP_LEVEL_KEYS[key] : undefined;
    if (why) issues.push(issue([key], why));
  }
  const method = r.merge_method;
  if (typeof method === "string" && (KNOWN_UNSUPPORTED_METHODS as readonly string[]).includes(method)) {
    issues.push(
      issue(["merge_method"], `mergekit method \`${method}\` is not supported by MergeScope yet (supported: ${MERGE_METHODS.join(", ")})`),
    );
  }
  if (Array.isArray(r.models) && r.models.length > LIMITS.recipeModels) {
    issues.push(issue(["models"], `the recipe lists ${r.models.length} models, above the limit of ${LIMITS.recipeModels} per recipe; split the merge`));
  }
  if (Array.isArray(r.slices)) {
    r.slices.forEach((sl, i) => {
      const sources = (sl as Record<string, unknown> | null)?.sources;
      if (!Array.isArray(sources)) return;
      sources.forEach((src, j) => {
        const ref = (src as Record<string, unknown> | null)?.model;
        if (ref !== null && typeof ref === "object") issues.push(issue(["slices", i, "sources", j, "model"], SLICE_REF_MESSAGE));
      });
    });
  }
  if (issues.length > 0) throw new RecipeError(issues);
}

/** A model and its LoRA as one identity (the same model with and without an adapter are two models). */
export function modelIdentity(ref: { path: string; lora?: { path: string } | null }): string {
  return ref.lora ? `${ref.path}+${ref.lora.path}` : ref.path;
}

/** Slice sources are whole models given by path (LoRA inputs and HF ids work with `models:`). */
const SLICE_REF_MESSAGE =
  "a slice source is a model path string; LoRA adapters (`model+lora`, `{model, lora}`) work with whole-model merges under `models:` only";

/** The numeric parameters of a `parameters:` block as written (specs); booleans are not specs. */
const SPEC_KEYS = ["weight", "density", "gamma", "epsilon", "scale", "lambda", "t"] as const;
function specsOf(p: Record<string, unknown> | null | undefined): ParamSpecs {
  const out: ParamSpecs = {};
  for (const k of SPEC_KEYS) if (p?.[k] !== undefined) out[k] = p[k] as ParamSpec;
  return out;
}

const isList = (spec: ParamSpec | undefined) => spec !== undefined && typeof spec !== "number";

/** A model's specs the plan needs beyond its scalar fields (see RecipeModel.parameters). */
function modelSpecs(own: ParamSpecs, global: ParamSpecs): ParamSpecs {
  return Object.fromEntries(Object.entries(own).filter(([k, v]) => isList(v) || isList(global[k])));
}

/** Top-level specs the plan needs: list values; with slices also the per-model fallbacks. */
function globalSpecs(g: ParamSpecs, slices: boolean): { parameters?: ParamSpecs } {
  const perModel = ["weight", "density", "gamma", "scale"];
  const kept = Object.fromEntries(Object.entries(g).filter(([k, v]) => isList(v) || (slices && perModel.includes(k))));
  return Object.keys(kept).length > 0 ? { parameters: kept } : {};
}

type RawModelParameters = NonNullable<NonNullable<RawRecipe["models"]>[number]["parameters"]>;
type RawGlobalParameters = NonNullable<RawRecipe["parameters"]>;

/** A model as the recipe names it: a `models:` entry, or the first slice source naming it. */
interface ModelMention {
  where: YamlPath;
  ref: unknown; // as written: a string, or the object form {model, lora}
  p: RawModelParameters;
  /** The slice's own `parameters:` (slices only). */
  sliceP: RawGlobalParameters;
}

/** Checks `slices:` and lists each model once, at its first source (the base included). */
function collectSlices(
  raw: RawRecipe,
  method: MergeMethod,
  resolveAt: (p: YamlPath, ref: string) => string | null,
  basePath: string | null,
  fail: (p: YamlPath, message: string) => void,
): { mentions: ModelMention[]; slices: RecipeSlice[] } {
  const mentions: ModelMention[] = [];
  const seen = new Set<string>();
  const slices: RecipeSlice[] = [];
  raw.slices!.forEach((slice, i) => {
    const sliceP = slice.parameters ?? {};
    for (const key of Object.keys(sliceP)) {
      if (!(SPEC_KEYS as readonly string[]).includes(key)) {
        fail(["slices", i, "parameters", key], `only numeric parameters (${SPEC_KEYS.join(", ")}) can be set per slice; move \`${key}\` to the top-level \`parameters:\``);
      }
    }
    const spans = slice.sources.map((src) => src.layer_range[1] - src.layer_range[0]);
    if (new Set(spans).size > 1) {
      fail(["slices", i, "sources"], `every source of a slice must span the same number of layers; got ${slice.sources.map((src) => `[${src.layer_range.join(", ")}]`).join(", ")}`);
    }
    if (method === "passthrough" && slice.sources.length !== 1) {
      fail(["slices", i, "sources"], `passthrough copies one model's layers per slice; this slice has ${slice.sources.length} sources (give each model its own slice)`);
    }
    const inSlice = new Map<string, number>();
    const sources = slice.sources.map((src, j) => {
      // A refused path is already reported (fail); the recipe is refused, the entry kept as written.
      const resolved = resolveAt(["slices", i, "sources", j, "model"], src.model) ?? src.model;
      const twice = inSlice.get(resolved);
      if (twice !== undefined) fail(["slices", i, "sources", j, "model"], `same model as sources[${twice}] of this slice; list each model once per slice`);
      inSlice.set(resolved, j);
      if (!seen.has(resolved)) {
        seen.add(resolved);
        mentions.push({ where: ["slices", i, "sources", j], ref: src.model, p: src.parameters ?? {}, sliceP });
      }
      return { path: resolved, source: src.model, layerRange: [src.layer_range[0], src.layer_range[1]] as [number, number], parameters: specsOf(src.parameters) };
    });
    if (BASED_METHODS.has(method) && basePath !== null && !inSlice.has(basePath)) {
      fail(["slices", i, "sources"], `${method} takes task vectors relative to base_model: list base_model (\`${raw.base_model}\`) among this slice's sources with the same layer_range`);
    }
    slices.push({ sources, parameters: specsOf(sliceP) });
  });
  return { mentions, slices };
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
  const rep = representativeValue;

  if ((raw.models == null) === (raw.slices == null)) {
    throw new RecipeError([
      raw.models == null
        ? { path: "models", line: null, message: "required: `models:` (whole-model merges) or `slices:` (layer ranges from each model)" }
        : { path: "slices", line: lineOf(["slices"]), message: "give either `models:` or `slices:`, not both" },
    ]);
  }

  // A refused reference (server/paths, Hugging Face id forms) is reported at its YAML path; the entry is left out.
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
  if (usesTaskVectors && !BASE_OPTIONAL.has(method) && raw.base_model == null) {
    fail(["base_model"], `required for merge_method \`${method}\` (task vectors are taken relative to it); add \`base_model: PATH\``);
  }
  // Slice sources: plain model paths (no adapters).
  const slicePath = (p: YamlPath, ref: string): string | null => {
    const r = resolveAt(p, ref);
    if (r?.lora) fail(p, SLICE_REF_MESSAGE);
    return r && !r.lora ? r.model.path : null;
  };
  const fromSlices = raw.slices != null ? collectSlices(raw, method, slicePath, basePath, fail) : null;
  const mentions: ModelMention[] =
    fromSlices?.mentions ?? raw.models!.map((m, i) => ({ where: ["models", i], ref: m.model, p: m.parameters ?? {}, sliceP: {} }));

  const models: RecipeModel[] = [];
  const seen = new Map<string, number>();
  let baseListed = false;
  mentions.forEach(({ where, ref: written, p, sliceP }) => {
    const at = yamlPathString(where);
    const ref = resolveAt([...where, "model"], written);
    if (ref === null) return;
    const resolved = modelIdentity({ path: ref.model.path, lora: ref.lora });
    const shown = typeof written === "string" ? written : resolved;
    if (usesTaskVectors && resolved === baseId) {
      baseListed = true;
      const rule = baseEntryRule(method);
      if (rule?.kind === "error") {
        fail([...where, "model"], rule.message);
        return;
      }
      if (!fromSlices) {
        notes.push(
          `${at} (\`${shown}\`) is the base model; ${rule?.message ?? "it is left out of the task vectors, as mergekit does"}` +
            (Object.keys(p).length > 0 ? " (its parameters are not used)" : ""),
        );
      }
      return;
    }
    if ((method === "linear" || method === "passthrough") && resolved === baseId) baseListed = true;
    const first = seen.get(resolved);
    if (first !== undefined) {
      fail([...where, "model"], `same model as models[${first}] (\`${resolved}\`); list each model once`);
      return;
    }
    seen.set(resolved, where[1] as number);

    let weight = rep(p.weight) ?? rep(sliceP.weight) ?? rep(g.weight);
    if (!weighted) {
      if (p.weight !== undefined) notes.push(`${at}: \`weight\` has no effect on ${method}; ignored`);
      weight = 1;
    } else if (weight === undefined) {
      weight = 1;
      notes.push(`${at}: no \`weight\` given; using 1.0 (mergekit requires \`weight\` for ${method})`);
    }
    let density = rep(p.density) ?? rep(sliceP.density) ?? rep(g.density) ?? 1;
    if (!trims && density !== 1) {
      notes.push(`${at}: \`density\` has no effect on ${method} (only ${TRIM_METHODS.join(", ")} trim task vectors); ignored`);
      density = 1;
    }
    let gamma = rep(p.gamma) ?? rep(sliceP.gamma) ?? rep(g.gamma) ?? 0.01;
    if (!BREADCRUMBS.has(method)) {
      if (p.gamma !== undefined) notes.push(`${at}: \`gamma\` is a breadcrumbs parameter; it has no effect on ${method}`);
      gamma = 0.01;
    }
    let scale = rep(p.scale) ?? rep(sliceP.scale) ?? rep(g.scale) ?? null;
    if (method !== "passthrough") {
      if (p.scale !== undefined) notes.push(`${at}: \`scale\` is a passthrough parameter; it has no effect on ${method}`);
      scale = null;
    }
    const favored = p.favored ?? false;
    if (p.favored !== undefined && method !== "ties_sv") {
      fail([...where, "parameters", "favored"], "`favored` is a ties_sv parameter; remove it or use `merge_method: ties_sv`");
    }
    let epsilon = rep(p.epsilon) ?? rep(sliceP.epsilon) ?? rep(g.epsilon) ?? DEFAULT_EPSILON;
    if (!DELLA.has(method)) {
      if (p.epsilon !== undefined) notes.push(`${at}: \`epsilon\` is a della parameter; it has no effect on ${method}`);
      epsilon = DEFAULT_EPSILON;
    } else if (density > 0 && density < 1 && !(density + epsilon < 1 && density - epsilon > 0)) {
      fail(
        [...where, "parameters", p.epsilon !== undefined ? "epsilon" : "density"],
        `della keeps entries with probabilities from density - epsilon to density + epsilon, which must lie inside (0, 1); density ${density} with epsilon ${epsilon} does not (mergekit raises the same error). Lower epsilon below ${Math.min(density, 1 - density)}`,
      );
    }
    // Kept as specs: the model's list values, and its scalars where the top-level value is a
    // list (they shadow it); everything else is in the scalar fields (plan/resolve.ts).
    const specs = fromSlices ? {} : modelSpecs(specsOf(p), specsOf(g));
    models.push({
      path: ref.model.path,
      source: ref.model.source,
      hf: ref.model.hf,
      lora: ref.lora,
      weight,
      density,
      gamma,
      epsilon,
      favored,
      ...(method === "passthrough" ? { scale } : {}),
      ...(Object.keys(specs).length > 0 ? { parameters: specs } : {}),
    });
  });

  if (issues.length === 0 && method === "passthrough" && !fromSlices && models.length !== 1) {
    fail(["models"], `passthrough copies one model's tensors: give exactly one model under \`models:\` (found ${models.length}), or take layers from several models with \`slices:\``);
  }
  if (method === "passthrough" && basePath !== null) {
    notes.push("passthrough: `base_model` takes no part in the arithmetic; config.json and the tokenizer are copied from it");
  }
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
  const countProblem = issues.length === 0 ? newerMethodCountProblem(method, models.length, basePath !== null) : null;
  if (countProblem) fail(["models"], countProblem);
  notes.push(...newerMethodNotes(method, models.length, basePath !== null));

  // Methods without normalize / lambda: the interpolations, passthrough and the newer mergekit methods.
  const interpolates = method === "slerp" || method === "model_stock" || method === "passthrough" || isNewerMethod(method);
  if (interpolates) {
    for (const key of ["normalize", "lambda"] as const) {
      if (g[key] !== undefined) notes.push(`\`${key}\` has no effect on ${method}; ignored`);
    }
  }
  const normalize = g.normalize ?? NORMALIZE_DEFAULT.has(method);
  let lambda = rep(g.lambda) ?? 1;
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
      const which = mentions.flatMap((m) => (m.p.favored ? [yamlPathString(m.where)] : []));
      fail(
        ["models"],
        `ties_sv needs exactly one model with \`favored: true\` (the SFT model whose lost sign elections may be rescued); found ${favored.length}${which.length > 0 ? ` (${which.join(", ")})` : ""}`,
      );
    }
  }

  if (g.epsilon !== undefined && !DELLA.has(method)) notes.push(`\`epsilon\` is a della parameter; it has no effect on ${method}`);
  const rescale = g.rescale ?? RANDOM.has(method);
  if (g.rescale === true && !RANDOM.has(method)) {
    if (trims && models.some((m) => m.density < 1)) {
      fail(
        ["parameters", "rescale"],
        `\`rescale: true\` (mergekit then rescales each trimmed task vector to keep its L1 norm) is supported for ${RANDOM_METHODS.join(", ")} only; remove it or set it to false`,
      );
    } else {
      notes.push("`rescale: true` has no effect here (no task vector is trimmed)");
    }
  }
  if (raw.seed != null && g.seed !== undefined && raw.seed !== g.seed) {
    fail(["seed"], `given twice with different values (${raw.seed} here, ${g.seed} under parameters); keep one`);
  }
  const seed = raw.seed ?? g.seed ?? 0;
  if ((raw.seed != null || g.seed !== undefined) && !RANDOM.has(method)) {
    notes.push(`\`seed\` only affects ${RANDOM_METHODS.join(", ")}; it has no effect on ${method}`);
  }
  if (raw.random != null && g.random !== undefined && raw.random !== g.random) {
    fail(["random"], `given twice with different values (${raw.random} here, ${g.random} under parameters); keep one`);
  }
  const randomGiven = (raw.random ?? g.random) as RandomStream | undefined;
  let randomStream: RandomStream = randomGiven ?? "counter";
  if (DELLA.has(method)) {
    if (randomGiven === "counter") {
      fail(
        [raw.random != null ? "random" : "parameters"],
        `${method} draws its keep masks from mergekit's random stream only (torch's MT19937 seeded with \`seed\`); remove \`random: counter\``,
      );
    }
    randomStream = "mergekit";
  } else if (!DARE.has(method)) {
    if (randomGiven !== undefined) notes.push(`\`random\` only affects dare_linear and dare_ties; it has no effect on ${method}`);
    randomStream = "counter";
  }
  if (raw.tie_order != null && g.tie_order !== undefined && raw.tie_order !== g.tie_order) {
    fail(["tie_order"], `given twice with different values (${raw.tie_order} here, ${g.tie_order} under parameters); keep one`);
  }
  const tieGiven = (raw.tie_order ?? g.tie_order) as TieOrder | undefined;
  if (tieGiven !== undefined && !RANKING_METHODS.includes(method)) {
    notes.push(`\`tie_order\` only affects methods that rank entries by magnitude (${RANKING_METHODS.join(", ")}); it has no effect on ${method}`);
  }
  const tieOrder: TieOrder = tieGiven ?? "mergekit";
  if (g.keep_if_no_outliers !== undefined && !BREADCRUMBS.has(method)) {
    notes.push(`\`keep_if_no_outliers\` is a breadcrumbs parameter; it has no effect on ${method}`);
  }
  if (g.filter_wise !== undefined && method !== "model_stock") notes.push(`\`filter_wise\` is a model_stock parameter; it has no effect on ${method}`);
  if (method === "slerp" && g.t === undefined) {
    fail(["parameters", "t"], "required for slerp: the interpolation factor in [0, 1] from base_model (0) to the other model (1)");
  }
  const newer = newerMethodValues(method, { ...g, t: rep(g.t) }, fail, notes);
  const int8Mask = g.int8_mask ?? false;
  if (int8Mask) notes.push("`int8_mask` only changes mergekit's memory use; results are identical, so it is ignored");
  if (g.t !== undefined && method !== "slerp" && method !== "nearswap") notes.push(`\`t\` is a slerp / nearswap parameter; it has no effect on ${method}`);
  if (method === "linear" && basePath !== null) {
    notes.push("linear: `base_model` is one of the averaged models; config.json and the tokenizer are copied from it");
  }

  const tokenizer = parseTokenizerSettings(raw, {
    resolve: resolveAt,
    models: [...(baseRef ? [{ path: baseRef.model.path, source: baseRef.model.source, lora: baseRef.lora }] : []), ...models.map((m) => ({ path: m.path, source: m.source, lora: m.lora ?? null }))],
    fail,
  });
  if (fromSlices && (raw.tokenizer_source != null || raw.tokenizer != null)) {
    fail([raw.tokenizer_source != null ? "tokenizer_source" : "tokenizer"], "tokenizer merges work with whole-model merges under `models:` only, not with `slices:`");
  }

  // A slice source refused once is reported once (it is resolved again as the model it names).
  if (issues.length > 0) throw new RecipeError(issues.filter((x, i) => issues.findIndex((y) => y.path === x.path && y.message === x.message) === i));
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
    randomStream,
    tieOrder,
    keepIfNoOutliers: BREADCRUMBS.has(method) ? (g.keep_if_no_outliers ?? false) : false,
    t: method === "slerp" || method === "nearswap" ? rep(g.t)! : 0,
    filterWise: method === "model_stock" ? (g.filter_wise ?? false) : false,
    ...newer,
    int8Mask,
    slack: method === "ties_sv" ? g.slack! : 0,
    slackScope: method === "ties_sv" ? (g.slack_scope ?? "model") : "model",
    dtype: (raw.dtype ?? null) as RecipeDtype | null,
    outDtype: (raw.out_dtype ?? null) as RecipeDtype | null,
    notes,
    ...globalSpecs(specsOf(g), fromSlices !== null),
    ...(fromSlices ? { slices: fromSlices.slices } : {}),
  };
}
