// builder.parseYaml: a pasted mergekit recipe → the builder's settings.
// Syntax and recipe errors come back with their YAML path and line; models
// that are not registered are reported at the entry that names them.
import { realpath } from "node:fs/promises";
import path from "node:path";
import { isMap, isSeq, LineCounter, parseDocument } from "yaml";
import { db } from "../../db/client";
import { env } from "../../env";
import { DEFAULT_T, usesSeed } from "./method-rules";
import { validateRecipeYaml } from "./recipe-build";
import { MERGE_METHOD_VALUES, type BuilderMethod, type BuilderSettings, type ParseYamlResult, type RecipeIssueOut } from "./schemas";

const isBuilderMethod = (m: string): m is BuilderMethod => (MERGE_METHOD_VALUES as readonly string[]).includes(m);

/** Relative paths in a pasted recipe resolve against the first allowed model root. */
export function pastedRecipeDir(): string {
  return env().modelRoots[0] ?? env().dataDir;
}

async function canonical(p: string): Promise<string> {
  return realpath(p).catch(() => p);
}

/** Line and raw index of the `models:` entries, to point issues at the right entry. */
function locateModels(text: string): { lineOf: (p: (string | number)[]) => number | null; rawModels: string[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const lineOf = (p: (string | number)[]) => {
    const node = doc.getIn(p, true) as { range?: [number, number, number] } | undefined;
    return node?.range ? lc.linePos(node.range[0]).line : null;
  };
  const models = doc.get("models", true);
  const rawModels = isSeq(models)
    ? models.items.map((it) => (isMap(it) ? String(it.get("model") ?? "") : ""))
    : [];
  return { lineOf, rawModels };
}

export async function parsePastedYaml(text: string): Promise<ParseYamlResult> {
  if (text.trim() === "") {
    return { ok: false, issues: [{ path: "", line: null, message: "paste a mergekit recipe (YAML with `merge_method:` and `models:`)" }], notes: [], settings: null };
  }
  const recipeDir = pastedRecipeDir();
  const v = validateRecipeYaml(text, recipeDir);
  if (!v.ok) return { ok: false, issues: v.issues, notes: [], settings: null };
  const r = v.recipe;
  const { lineOf, rawModels } = locateModels(text);
  const method = r.method;
  if (!isBuilderMethod(method)) {
    return {
      ok: false,
      issues: [
        {
          path: "merge_method",
          line: lineOf(["merge_method"]),
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
      line: lineOf([r.tokenizer.key]),
      message: "the builder sets `tokenizer_source: base | union`; queue a recipe with a tokenizer model or a `tokenizer:` block with `mergescope submit RECIPE.yml`",
    });
  }
  const loraAt = [...(r.baseLora ? ["base_model"] : []), ...r.models.flatMap((m, i) => (m.lora ? [`models[${i}].model`] : []))];
  for (const where of loraAt) {
    unsupported.push({ path: where, line: null, message: "the builder does not apply LoRA adapters (`model+lora`); queue this recipe with `mergescope submit RECIPE.yml`" });
  }
  if (unsupported.length > 0) return { ok: false, issues: unsupported, notes: r.notes, settings: null };

  const wanted = [r.basePath, ...r.models.map((m) => m.path)].filter((x): x is string => x !== null);
  const canon = new Map<string, string>();
  for (const p of wanted) canon.set(p, await canonical(p));
  const client = await db();
  const rows = await client.model.findMany({ where: { path: { in: [...new Set([...canon.values(), ...wanted])] } }, select: { id: true, path: true } });
  const idOf = (p: string) => rows.find((row) => row.path === canon.get(p) || row.path === p)?.id ?? null;

  const issues: RecipeIssueOut[] = [];
  const notRegistered = (where: (string | number)[], shown: string, p: string) =>
    issues.push({
      path: where.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join(""),
      line: lineOf(where),
      message: `${shown}${shown !== p ? ` (${p})` : ""} is not a registered model; register it on the Models page first (it must be under an allowed model root)`,
    });

  // linear lists its base among the models; task-vector methods take it from base_model.
  let baseModelId: string | null = null;
  if (r.basePath !== null && r.method !== "linear") {
    baseModelId = idOf(r.basePath);
    if (!baseModelId) notRegistered(["base_model"], r.baseSource ?? r.basePath, r.basePath);
  }
  const models: BuilderSettings["models"] = [];
  for (const m of r.models) {
    const id = idOf(m.path);
    const rawIndex = rawModels.findIndex((raw) => raw === m.source || path.resolve(recipeDir, raw) === m.path);
    if (!id) notRegistered(["models", rawIndex >= 0 ? rawIndex : 0, "model"], m.source, m.path);
    else models.push({ modelId: id, weight: m.weight, density: m.density, gamma: m.gamma, favored: m.favored });
  }
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
      t: r.method === "slerp" ? r.t : DEFAULT_T,
      seed: r.seed,
      rescale: usesSeed(method) ? r.rescale : true,
      keepIfNoOutliers: r.keepIfNoOutliers,
      filterWise: r.filterWise,
      dtype: r.dtype,
      tokenizerSource: r.tokenizer?.source.kind === "base" || r.tokenizer?.source.kind === "union" ? r.tokenizer.source.kind : null,
    },
  };
}
