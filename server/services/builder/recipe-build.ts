// Builder settings → mergekit YAML, validated by the engine's recipe parser.
// Only registered models can be used, so every path in a built recipe lies in
// an allowed root.
import { stringify } from "yaml";
import { db } from "../../db/client";
import { env } from "../../env";
import { parseRecipeYaml, RecipeError, recipeToYaml, type Recipe } from "../../engine/recipe";
import {
  usesBaseModel,
  usesConsensus,
  usesDensity,
  usesGamma,
  usesLambda,
  usesNormalize,
  usesSeed,
  usesWeight,
} from "./method-rules";
import type { BuilderSettings, RecipeIssueOut } from "./schemas";

export interface BuilderModelRef {
  id: string;
  name: string;
  path: string;
  role: string;
}

export async function loadModelRefs(ids: (string | null | undefined)[]): Promise<Map<string, BuilderModelRef>> {
  const wanted = [...new Set(ids.filter((x): x is string => typeof x === "string"))];
  const client = await db();
  const rows = await client.model.findMany({ where: { id: { in: wanted } }, select: { id: true, name: true, path: true, role: true } });
  return new Map(rows.map((r) => [r.id, r]));
}

/** Folder recipe paths resolve against (all built paths are absolute anyway). */
export function builderRecipeDir(): string {
  return env().dataDir;
}

/**
 * The recipe as mergekit YAML, with one issue per unknown model id. Each key is
 * written for exactly the methods it affects (see method-rules.ts), so the
 * recipe parser adds no "has no effect" notes.
 */
export function buildRecipeYaml(s: BuilderSettings, refs: Map<string, BuilderModelRef>): { yaml: string; issues: RecipeIssueOut[] } {
  const issues: RecipeIssueOut[] = [];
  const missing = (p: string, id: string) =>
    issues.push({ path: p, line: null, message: `model ${id} is not registered (deleted?); pick another model` });
  const m = s.method;
  const doc: Record<string, unknown> = { merge_method: m };
  if (usesBaseModel(m) && s.baseModelId) {
    const base = refs.get(s.baseModelId);
    if (base) doc.base_model = base.path;
    else missing("base_model", s.baseModelId);
  }
  doc.models = s.models.map((entry, i) => {
    const ref = refs.get(entry.modelId);
    if (!ref) missing(`models[${i}].model`, entry.modelId);
    const parameters: Record<string, unknown> = {};
    if (usesWeight(m)) parameters.weight = entry.weight;
    if (usesDensity(m)) parameters.density = entry.density;
    if (usesGamma(m)) parameters.gamma = entry.gamma;
    if (m === "ties_sv" && entry.favored) parameters.favored = true;
    const model = ref?.path ?? `unknown-model-${entry.modelId}`;
    return Object.keys(parameters).length > 0 ? { model, parameters } : { model };
  });
  const parameters: Record<string, unknown> = {};
  if (usesNormalize(m)) parameters.normalize = s.normalize;
  if (usesLambda(m)) parameters.lambda = s.lambda;
  if (usesConsensus(m)) parameters.consensus = s.consensus;
  if (m === "ties_sv") {
    parameters.slack = s.slack;
    parameters.slack_scope = s.slackScope;
  }
  if (usesSeed(m)) {
    parameters.rescale = s.rescale;
    parameters.seed = s.seed;
  }
  if (usesGamma(m) && s.keepIfNoOutliers) parameters.keep_if_no_outliers = true;
  if (m === "slerp") parameters.t = s.t;
  if (m === "model_stock") parameters.filter_wise = s.filterWise;
  if (Object.keys(parameters).length > 0) doc.parameters = parameters;
  if (s.dtype) doc.dtype = s.dtype;
  if (s.tokenizerSource) doc.tokenizer_source = s.tokenizerSource;
  return { yaml: stringify(doc, { indent: 2, lineWidth: 0 }), issues };
}

export type Validated = { ok: true; recipe: Recipe; yaml: string } | { ok: false; issues: RecipeIssueOut[] };

/** Parses `yaml` with the engine's recipe module; the canonical YAML when valid. */
export function validateRecipeYaml(yaml: string, recipeDir: string): Validated {
  try {
    const recipe = parseRecipeYaml(yaml, { recipeDir });
    return { ok: true, recipe, yaml: recipeToYaml(recipe) };
  } catch (err) {
    if (err instanceof RecipeError) return { ok: false, issues: err.issues.map((i) => ({ path: i.path, line: i.line, message: i.message })) };
    throw err;
  }
}
