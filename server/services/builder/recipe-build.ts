// Builder settings → mergekit YAML, validated by the engine's recipe parser.
// Only registered models can be used, so every path in a built recipe lies in
// an allowed root.
import { stringify } from "yaml";
import { db } from "../../db/client";
import { env } from "../../env";
import { newerMethodYaml } from "../../engine/recipe/newer-methods";
import {
  usesBaseModel,
  usesConsensus,
  usesDensity,
  usesEpsilon,
  usesGamma,
  usesLambda,
  usesNormalize,
  usesRandomStream,
  usesSeed,
  usesTieOrder,
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
  const top = s.parameters ?? {};
  const isList = (v: unknown) => v !== undefined && typeof v !== "number";
  if (s.slices?.length) {
    doc.slices = s.slices.map((slice, i) => ({
      sources: slice.sources.map((src, j) => {
        const ref = refs.get(src.modelId);
        if (!ref) missing(`slices[${i}].sources[${j}].model`, src.modelId);
        const parameters = specsYaml(src.parameters);
        return { model: ref?.path ?? `unknown-model-${src.modelId}`, layer_range: [...src.layerRange], ...(parameters ? { parameters } : {}) };
      }),
      ...(specsYaml(slice.parameters) ? { parameters: specsYaml(slice.parameters) } : {}),
    }));
  } else {
    doc.models = s.models.map((entry, i) => {
      const ref = refs.get(entry.modelId);
      if (!ref) missing(`models[${i}].model`, entry.modelId);
      const parameters: Record<string, unknown> = {};
      // a gradient / filter list, else the plain value unless the model follows a top-level list
      const put = (key: keyof NonNullable<typeof entry.parameters>, used: boolean, plain: number | undefined) => {
        const own = entry.parameters?.[key];
        if (!used) return;
        if (own !== undefined) parameters[key] = specYaml(own);
        else if (!isList(top[key]) && plain !== undefined) parameters[key] = plain;
      };
      put("weight", usesWeight(m), entry.weight);
      put("density", usesDensity(m), entry.density);
      put("gamma", usesGamma(m), entry.gamma);
      put("epsilon", usesEpsilon(m), entry.epsilon);
      put("scale", m === "passthrough", entry.scale);
      if (m === "ties_sv" && entry.favored) parameters.favored = true;
      const model = ref?.path ?? `unknown-model-${entry.modelId}`;
      return Object.keys(parameters).length > 0 ? { model, parameters } : { model };
    });
  }
  const parameters: Record<string, unknown> = {};
  if (usesNormalize(m)) parameters.normalize = s.normalize;
  if (usesLambda(m)) parameters.lambda = top.lambda !== undefined ? specYaml(top.lambda) : s.lambda;
  for (const key of ["weight", "density", "gamma", "scale"] as const) if (top[key] !== undefined) parameters[key] = specYaml(top[key]);
  if (usesConsensus(m)) parameters.consensus = s.consensus;
  if (m === "ties_sv") {
    parameters.slack = s.slack;
    parameters.slack_scope = s.slackScope;
  }
  if (usesSeed(m)) {
    parameters.rescale = s.rescale;
    parameters.seed = s.seed;
  }
  if (usesRandomStream(m) && s.randomStream !== "counter") parameters.random = s.randomStream;
  if (usesTieOrder(m) && s.tieOrder !== "mergekit") parameters.tie_order = s.tieOrder;
  if (usesGamma(m) && s.keepIfNoOutliers) parameters.keep_if_no_outliers = true;
  if (m === "slerp") parameters.t = top.t !== undefined ? specYaml(top.t) : s.t;
  if (m === "model_stock") parameters.filter_wise = s.filterWise;
  Object.assign(parameters, newerMethodYaml(m, s));
  if (Object.keys(parameters).length > 0) doc.parameters = parameters;
  if (s.dtype) doc.dtype = s.dtype;
  if (s.tokenizerSource) doc.tokenizer_source = s.tokenizerSource;
  return { yaml: stringify(doc, { indent: 2, lineWidth: 0 }), issues };
}

type Spec = NonNullable<BuilderSettings["parameters"]>[keyof NonNullable<BuilderSettings["parameters"]>];

/** mergekit's YAML form of a spec: conditions without a filter have only `value`. */
function specYaml(spec: NonNullable<Spec>): unknown {
  if (typeof spec === "number" || typeof spec[0] === "number") return spec;
  return (spec as { filter: string | null; value: number | number[] }[]).map((c) => (c.filter === null ? { value: c.value } : { filter: c.filter, value: c.value }));
}

function specsYaml(specs: BuilderSettings["parameters"]): Record<string, unknown> | null {
  const entries = Object.entries(specs ?? {}).filter(([, v]) => v !== undefined);
  return entries.length > 0 ? Object.fromEntries(entries.map(([k, v]) => [k, specYaml(v!)])) : null;
}

export { validateRecipeYaml, type Validated } from "./validate";
