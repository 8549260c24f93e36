// builder.parseYaml: a pasted mergekit recipe → the builder's settings.
// Syntax and recipe errors come back with their YAML path and line; models
// that are not registered are reported at the entry that names them. The YAML
// work runs on an offload thread (pasted-recipe.ts); lookups here use maps, so
// the whole request is linear in the number of models.
import { realpath } from "node:fs/promises";
import { db } from "../../db/client";
import { env } from "../../env";
import { offload } from "../../offload/pool";
import { DEFAULT_EPSILON, DEFAULT_T, usesEpsilon, usesRandomStream, usesSeed, usesTieOrder } from "./method-rules";
import { MAX_BUILDER_MODELS, MERGE_METHOD_VALUES, type BuilderMethod, type BuilderSettings, type ParseYamlResult, type RecipeIssueOut } from "./schemas";

const isBuilderMethod = (m: string): m is BuilderMethod => (MERGE_METHOD_VALUES as readonly string[]).includes(m);

/** Relative paths in a pasted recipe resolve against the first allowed model root. */
export function pastedRecipeDir(): string {
  return env().modelRoots[0] ?? env().dataDir;
}

async function canonical(p: string): Promise<string> {
  return realpath(p).catch(() => p);
}

export async function parsePastedYaml(text: string): Promise<ParseYamlResult> {
  if (text.trim() === "") {
    return { ok: false, issues: [{ path: "", line: null, message: "paste a mergekit recipe (YAML with `merge_method:` and `models:`)" }], notes: [], settings: null };
  }
  const recipeDir = pastedRecipeDir();
  // Parsing runs off the event loop (YAML is slow to parse; see server/offload).
  const pasted = await offload("builder.pasted", { text, recipeDir });
  const v = pasted.validated;
  if (!v.ok) return { ok: false, issues: v.issues, notes: [], settings: null };
  const r = v.recipe;
  const method = r.method;
  if (!isBuilderMethod(method)) {
    return {
      ok: false,
      issues: [
        {
          path: "merge_method",
          line: pasted.lines.mergeMethod,
          message: `the builder edits ${MERGE_METHOD_VALUES.join(", ")}; queue a ${method} recipe with \`mergescope submit RECIPE.yml\` (the engine runs it)`,
        },
      ],
      notes: r.notes,
      settings: null,
    };
  }

  // What the form cannot hold is refused by name, never dropped.
  const unsupported: RecipeIssueOut[] = [];
  if (r.tokenizer && !(r.tokenizer.key === "tokenizer_source" && r.tokenizer.source.kind !== "model")) {
    unsupported.push({
      path: r.tokenizer.key,
      line: null,
      message: "the builder sets `tokenizer_source: base | union`; queue a recipe with a tokenizer model or a `tokenizer:` block with `mergescope submit RECIPE.yml`",
    });
  }
  const loraAt = [...(r.baseLora ? ["base_model"] : []), ...r.models.flatMap((m, i) => (m.lora ? [`models[${i}].model`] : []))];
  for (const where of loraAt) {
    unsupported.push({ path: where, line: null, message: "the builder does not apply LoRA adapters (`model+lora`); queue this recipe with `mergescope submit RECIPE.yml`" });
  }
  if (unsupported.length > 0) return { ok: false, issues: unsupported, notes: r.notes, settings: null };

  const slicePaths = (r.slices ?? []).flatMap((sl) => sl.sources.map((src) => src.path));
  const wanted = [...new Set([r.basePath, ...r.models.map((m) => m.path), ...slicePaths].filter((x): x is string => x !== null))];
  const canon = new Map<string, string>();
  for (const p of wanted) canon.set(p, await canonical(p));
  const client = await db();
  const rows = await client.model.findMany({ where: { path: { in: [...new Set([...canon.values(), ...wanted])] } }, select: { id: true, path: true } });
  const idByPath = new Map(rows.map((row) => [row.path, row.id]));
  const idOf = (p: string) => idByPath.get(canon.get(p) ?? p) ?? idByPath.get(p) ?? null;

  const issues: RecipeIssueOut[] = [];
  const notRegistered = (where: string, line: number | null, shown: string, p: string) =>
    issues.push({
      path: where,
      line,
      message: `${shown}${shown !== p ? ` (${p})` : ""} is not a registered model; register it on the Models page first (it must be under an allowed model root)`,
    });

  // linear lists its base among the models; task-vector methods take it from base_model.
  let baseModelId: string | null = null;
  if (r.basePath !== null && r.method !== "linear") {
    baseModelId = idOf(r.basePath);
    if (!baseModelId) notRegistered("base_model", pasted.lines.baseModel, r.baseSource ?? r.basePath, r.basePath);
  }
  const models: BuilderSettings["models"] = [];
  r.models.forEach((m, j) => {
    const id = idOf(m.path);
    const at = pasted.models[j] ?? { rawIndex: 0, line: null };
    // (with slices, an unregistered model is reported at its slice sources below)
    if (!id) {
      if (!r.slices) notRegistered(`models[${at.rawIndex}].model`, at.line, m.source, m.path);
    } else {
      models.push({
        modelId: id,
        weight: m.weight,
        density: m.density,
        gamma: m.gamma,
        epsilon: usesEpsilon(method) ? m.epsilon : DEFAULT_EPSILON,
        favored: m.favored,
        ...(m.scale !== undefined && m.scale !== null ? { scale: m.scale } : {}),
        ...(m.parameters ? { parameters: m.parameters } : {}),
      });
    }
  });
  if (issues.length === 0 && models.length > MAX_BUILDER_MODELS) {
    issues.push({
      path: "models",
      line: null,
      message: `the builder edits up to ${MAX_BUILDER_MODELS} models and this recipe merges ${models.length}; queue it with \`mergescope submit RECIPE.yml\` instead`,
    });
  }
  // Slices: every source by its registered model (the base too, for task-vector methods).
  const slices: NonNullable<BuilderSettings["slices"]> = [];
  (r.slices ?? []).forEach((sl, i) => {
    const sources = sl.sources.map((src, j) => {
      const id = idOf(src.path);
      if (!id) notRegistered(`slices[${i}].sources[${j}].model`, pasted.sliceSourceLines[i]?.[j] ?? null, src.source, src.path);
      return { modelId: id ?? "", layerRange: [src.layerRange[0], src.layerRange[1]] as [number, number], parameters: src.parameters };
    });
    slices.push({ sources, parameters: sl.parameters });
  });
  if (issues.length > 0) return { ok: false, issues, notes: r.notes, settings: null };

  // The experiment this recipe belongs to, when its base and models are all in one.
  const ids = models.map((m) => m.modelId);
  const experiments = await client.experiment.findMany({
    where: { ...(baseModelId ? { baseModelId } : {}), models: { some: { modelId: { in: ids } } } },
    include: { models: { select: { modelId: true } } },
    orderBy: { createdAt: "desc" },
  });
  const experiment = experiments.find((e) => ids.every((id) => e.models.some((em) => em.modelId === id)));

  return {
    ok: true,
    issues: [],
    notes: r.notes,
    settings: {
      experimentId: experiment?.id ?? null,
      method,
      baseModelId,
      models,
      lambda: r.lambda,
      normalize: r.normalize,
      consensus: r.consensus,
      slack: r.method === "ties_sv" ? r.slack : 0.04,
      slackScope: r.slackScope,
      // Values of parameters the method does not use stay at the form's defaults,
      // so switching to a method that uses them starts from mergekit's default.
      t: r.method === "slerp" || r.method === "nearswap" ? r.t : DEFAULT_T,
      seed: r.seed,
      rescale: usesSeed(method) ? r.rescale : true,
      randomStream: usesRandomStream(method) ? r.randomStream : "counter",
      tieOrder: usesTieOrder(method) ? r.tieOrder : "mergekit",
      keepIfNoOutliers: r.keepIfNoOutliers,
      filterWise: r.filterWise,
      // the recipe layer gives mergekit's defaults for the methods that do not use them
      selectTopk: r.selectTopk,
      nuslerpFlatten: r.nuslerpFlatten,
      nuslerpRowWise: r.nuslerpRowWise,
      normalizeWeights: r.normalizeWeights,
      eps: r.eps,
      maxIter: r.maxIter,
      tol: r.tol,
      dtype: r.dtype,
      ...(r.parameters ? { parameters: r.parameters } : {}),
      ...(slices.length > 0 ? { slices } : {}),
      tokenizerSource: r.tokenizer?.source.kind === "base" || r.tokenizer?.source.kind === "union" ? r.tokenizer.source.kind : null,
    },
  };
}
