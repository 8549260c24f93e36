// Builder settings → mergekit YAML, validated by the engine's recipe parser.
// Only registered models can be used, so every path in a built recipe lies in
// an allowed root.
import { stringify } from "yaml";
import { db } from "../../db/client";
import { env } from "../../env";
import { parseRecipeYaml, RecipeError, recipeToYaml, type Recipe } from "../../engine/recipe";
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

const TIES = new Set(["ties", "ties_sv"]);

/** The recipe as mergekit YAML, with one issue per unknown model id. */
export function buildRecipeYaml(s: BuilderSettings, refs: Map<string, BuilderModelRef>): { yaml: string; issues: RecipeIssueOut[] } {
  const issues: RecipeIssueOut[] = [];
  const missing = (p: string, id: string) =>
    issues.push({ path: p, line: null, message: `model ${id} is not registered (deleted?); pick another model` });
  const doc: Record<string, unknown> = { merge_method: s.method };
  if (s.method !== "linear" && s.baseModelId) {
    const base = refs.get(s.baseModelId);
    if (base) doc.base_model = base.path;
    else missing("base_model", s.baseModelId);
  }
  doc.models = s.models.map((m, i) => {
    const ref = refs.get(m.modelId);
    if (!ref) missing(`models[${i}].model`, m.modelId);
    const parameters: Record<string, unknown> = { weight: m.weight };
    if (TIES.has(s.method)) parameters.density = m.density;
    if (s.method === "ties_sv" && m.favored) parameters.favored = true;
    return { model: ref?.path ?? `unknown-model-${m.modelId}`, parameters };
  });
  const parameters: Record<string, unknown> = { normalize: s.normalize };
  if (s.method !== "linear") parameters.lambda = s.lambda;
  if (TIES.has(s.method)) parameters.consensus = s.consensus;
  if (s.method === "ties_sv") {
    parameters.slack = s.slack;
    parameters.slack_scope = s.slackScope;
  }
  doc.parameters = parameters;
  if (s.dtype) doc.dtype = s.dtype;
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
