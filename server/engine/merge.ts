// High-level Node API: merge a recipe into a Hugging Face model directory, or analyze it
// (statistics only). The arithmetic runs on the native engine's own threads; this layer
// validates arguments, stages the output and makes it appear atomically.
import { stat } from "node:fs/promises";
import path from "node:path";
import { prepareInputs, type PreparedInputs } from "./input-transforms";
import { describeMissing, type ResolvedPath } from "./model-ref/parse-ref";
import { inspectModel, runNativeMerge } from "./native-merge";
import { loadNative } from "./native";
import { cancelledError, EngineError, throwIfCancelled } from "./output/errors";
import { finalizeOutput } from "./output/finalize";
import { DEFAULT_SHARD_SIZE_BYTES } from "./output/shard-size";
import { discardStaging, prepareStaging } from "./output/staging";
import { buildMergePlan, needsPlan, type MergePlan } from "./plan/build";
import { recipeToNativeRequest } from "./recipe/to-request";
import { MERGE_METHODS, type Recipe } from "./recipe/types";
import { buildStatsReport, type StatsReport, type StatsReportOptions } from "./stats/report";
import type { NativeMergeRequest, NativeMergeResult, NativeProgress, NativeSweepPoint, StorageDtype, TieOrder } from "./types";

export interface AnalyzeOptions {
  onProgress?: (p: NativeProgress) => void;
  signal?: AbortSignal;
  /** Engine threads; 0 (default) = all cores. */
  threads?: number;
  /** Overrides the recipe's `dtype` for the arithmetic (the output dtype is kept). */
  computeDtype?: "float32" | "storage";
  /** Labels for the report's models (recipe order). */
  roles?: StatsReportOptions["roles"];
  /**
   * Read only files inside these folders: the engine checks every file it opens (model folders,
   * index, shards) and so does the copy of config/tokenizer files (server jobs pass
   * MERGESCOPE_MODEL_ROOTS). null/undefined = any readable file (the local CLI).
   */
  allowedRoots?: readonly string[] | null;
}

export interface MergeOptions extends AnalyzeOptions {
  /** Maximum bytes per safetensors shard; default 5 GB (10^9), like Hugging Face. */
  shardSizeBytes?: number;
  /** Replace an existing output directory (only an empty one or an earlier MergeScope output). */
  overwrite?: boolean;
}

export interface MergeOutcome {
  outDir: string;
  /** outputSha256 of the manifest: one digest for the whole merged model. */
  manifestSha256: string;
  stats: StatsReport;
  result: NativeMergeResult;
}

function describe(v: unknown): string {
  if (v === undefined) return "undefined";
  if (typeof v === "string") return `"${v}"`;
  return JSON.stringify(v) ?? String(v);
}

function expectArg(ok: boolean, what: string, field: string, got: unknown): void {
  if (!ok) throw new TypeError(`expected ${what} for ${field}, got ${describe(got)}`);
}

function validateRecipe(recipe: Recipe): void {
  expectArg(typeof recipe === "object" && recipe !== null, "a Recipe (from parseRecipeYaml or loadRecipeFile)", "recipe", recipe);
  expectArg(MERGE_METHODS.includes(recipe.method), MERGE_METHODS.join("|"), "recipe.method", recipe.method);
  expectArg(Array.isArray(recipe.models) && recipe.models.length > 0, "a non-empty array", "recipe.models", recipe.models);
}

function validateAnalyzeOptions(opts: AnalyzeOptions): void {
  expectArg(typeof opts === "object" && opts !== null, "an options object", "options", opts);
  expectArg(opts.onProgress === undefined || typeof opts.onProgress === "function", "a function", "onProgress", opts.onProgress);
  expectArg(opts.signal === undefined || opts.signal instanceof AbortSignal, "an AbortSignal", "signal", opts.signal);
  expectArg(opts.threads === undefined || (Number.isInteger(opts.threads) && opts.threads >= 0 && opts.threads <= 1024), "an integer in [0, 1024]", "threads", opts.threads);
  expectArg(opts.computeDtype === undefined || opts.computeDtype === "float32" || opts.computeDtype === "storage", "float32|storage", "computeDtype", opts.computeDtype);
  expectArg(
    opts.allowedRoots === undefined || opts.allowedRoots === null || (Array.isArray(opts.allowedRoots) && opts.allowedRoots.every((r) => typeof r === "string" && path.isAbsolute(r))),
    "null or an array of absolute folder paths",
    "allowedRoots",
    opts.allowedRoots,
  );
}

/**
 * Fails early, with the recipe's own wording, when an input model or adapter does not exist
 * (a Hugging Face id missing from the cache is explained as such).
 */
async function checkInputsExist(recipe: Recipe): Promise<void> {
  const inputs: { what: string; ref: ResolvedPath }[] = [];
  if (recipe.basePath !== null) {
    inputs.push({ what: "base_model", ref: { path: recipe.basePath, source: recipe.baseSource ?? recipe.basePath, hf: recipe.baseHf ?? null } });
    if (recipe.baseLora) inputs.push({ what: "base_model (LoRA)", ref: recipe.baseLora });
  }
  recipe.models.forEach((m, i) => {
    inputs.push({ what: `models[${i}]`, ref: { path: m.path, source: m.source, hf: m.hf ?? null } });
    if (m.lora) inputs.push({ what: `models[${i}] (LoRA)`, ref: m.lora });
  });
  for (const { what, ref } of inputs) {
    try {
      await stat(ref.path);
    } catch {
      throw new EngineError("MODEL_NOT_FOUND", `${what}: ${describeMissing(ref)}`);
    }
  }
}

/**
 * The storage dtype of the base (or first) model, when a float32 compute override needs it
 * to keep the recipe's output dtype (see recipeToNativeRequest). Null if the model mixes dtypes.
 */
function storageDtypeFor(recipe: Recipe, opts: AnalyzeOptions): StorageDtype | undefined {
  if (opts.computeDtype !== "float32" || recipe.dtype !== null || recipe.outDtype !== null) return undefined;
  const info = inspectModel(recipe.basePath ?? recipe.models[0]!.path, { allowedRoots: opts.allowedRoots });
  const dtypes = new Set(info.tensors.map((t) => t.dtype).filter((d): d is StorageDtype => d === "F32" || d === "F16" || d === "BF16"));
  return dtypes.size === 1 ? [...dtypes][0] : undefined;
}

function engineVersion(): string {
  try {
    return loadNative().engineInfo().version;
  } catch {
    return "unknown";
  }
}

/** The per-tensor plan when the recipe has slices, gradients or filters (else null: names match 1:1). */
function planFor(recipe: Recipe, opts: AnalyzeOptions): MergePlan | null {
  if (!needsPlan(recipe)) return null;
  const names = new Map<string, string[]>();
  return buildMergePlan(recipe, (p) => {
    let n = names.get(p);
    if (!n) names.set(p, (n = inspectModel(p, { allowedRoots: opts.allowedRoots }).tensors.map((t) => t.name)));
    return n;
  });
}

/** The native request with its inputs' transforms (LoRA adapters, tokenizer row maps). */
function buildRequest(recipe: Recipe, outDir: string | null, opts: MergeOptions, plan: MergePlan | null = null): PreparedInputs {
  const request = recipeToNativeRequest(recipe, {
    outDir,
    shardSizeBytes: opts.shardSizeBytes ?? DEFAULT_SHARD_SIZE_BYTES,
    threads: opts.threads ?? 0,
    computeDtypeOverride: opts.computeDtype,
    baseStorageDtype: storageDtypeFor(recipe, opts),
    plan: plan?.plan ?? null,
  });
  return prepareInputs(recipe, opts.allowedRoots ? { ...request, allowedRoots: [...opts.allowedRoots] } : request);
}

/** Report labels: the caller's roles, else `model+adapter` names for LoRA inputs. */
function reportRoles(recipe: Recipe, roles: StatsReportOptions["roles"]): StatsReportOptions["roles"] {
  if (roles) return roles;
  if (!recipe.models.some((m) => m.lora)) return undefined;
  return recipe.models.map((m) => (m.lora ? `${path.basename(m.path)}+${path.basename(m.lora.path)}` : undefined));
}

/** The statistics of a run, with what the input transforms did (tokenizer, LoRA) and their warnings. */
function reportFor(recipe: Recipe, prepared: PreparedInputs, result: NativeMergeResult, opts: AnalyzeOptions): StatsReport {
  const stats = buildStatsReport(prepared.request, result, { roles: reportRoles(recipe, opts.roles) });
  if (prepared.tokenizer) {
    stats.tokenizer = prepared.tokenizer.report;
    stats.warnings.unshift(...prepared.tokenizer.warnings);
  }
  if (prepared.loras.length > 0) stats.loras = prepared.loras;
  return stats;
}

/** Merges `recipe` into a new model directory `outDir` (created atomically). */
export async function merge(recipe: Recipe, outDir: string, opts: MergeOptions = {}): Promise<MergeOutcome> {
  validateRecipe(recipe);
  expectArg(typeof outDir === "string" && outDir.trim() !== "", "a directory path", "outDir", outDir);
  validateAnalyzeOptions(opts);
  expectArg(
    opts.shardSizeBytes === undefined || (Number.isSafeInteger(opts.shardSizeBytes) && opts.shardSizeBytes > 0),
    "a positive integer number of bytes",
    "shardSizeBytes",
    opts.shardSizeBytes,
  );
  expectArg(opts.overwrite === undefined || typeof opts.overwrite === "boolean", "a boolean", "overwrite", opts.overwrite);

  const dest = path.resolve(outDir);
  const inputs = [recipe.basePath, recipe.baseLora?.path ?? null, ...recipe.models.flatMap((m) => [m.path, m.lora?.path ?? null])].filter(
    (p): p is string => p !== null,
  );
  const clash = inputs.find((p) => p === dest || dest.startsWith(`${p}${path.sep}`) || p.startsWith(`${dest}${path.sep}`));
  if (clash) {
    throw new EngineError("OUT_EXISTS", `output directory ${dest} overlaps input model ${clash}; write the merge somewhere else`);
  }
  await checkInputsExist(recipe);
  throwIfCancelled(opts.signal, dest);
  // Built before staging exists so recipe problems leave nothing behind.
  const plan = planFor(recipe, opts);
  const prepared = buildRequest(recipe, dest, opts, plan);
  const request = prepared.request;

  const stagingDir = await prepareStaging(dest, { overwrite: opts.overwrite });
  try {
    const result = await runNativeMerge({ ...request, outDir: stagingDir }, { onProgress: opts.onProgress, signal: opts.signal });
    throwIfCancelled(opts.signal, dest);
    const stats = reportFor(recipe, prepared, result, opts);
    const finished = await finalizeOutput({
      stagingDir,
      outDir: dest,
      baseModelPath: recipe.basePath ?? recipe.models[0]!.path,
      recipe,
      result,
      outDtype: request.outDtype,
      numHiddenLayers: plan && recipe.slices?.length ? plan.numHiddenLayers : null,
      stats,
      engineVersion: engineVersion(),
      overwrite: opts.overwrite,
      allowedRoots: opts.allowedRoots ?? null,
      signal: opts.signal,
      tokenizer: prepared.tokenizer?.vocab ?? null,
    });
    return { outDir: finished.outDir, manifestSha256: finished.outputSha256, stats, result };
  } catch (err) {
    await discardStaging(stagingDir);
    // The engine's own message ("merge cancelled") does not say that nothing was written.
    if ((err as { code?: unknown }).code === "CANCELLED") throw cancelledError(dest);
    throw err;
  }
}

export interface SweepPointReport {
  /** Per model, recipe order. */
  densities: number[];
  totals: StatsReport["totals"];
  tensors: StatsReport["tensors"];
  byLayer: StatsReport["byLayer"];
  byModule: StatsReport["byModule"];
}

export interface SweepReport {
  method: StatsReport["method"];
  /** Which threshold ties every point's cuts kept. */
  tie_order: TieOrder;
  /** The recipe's models without a density (each point has its own). */
  models: Omit<StatsReport["models"][number], "density">[];
  /** The listed densities, as given. */
  densities: number[];
  /** Every combination of `densities` across the models; the first model's density varies slowest. */
  sweep: SweepPointReport[];
  warnings: string[];
}

/**
 * Statistics of a `ties` recipe at every combination of `densities` across its models, from one
 * pass over the checkpoints (the models' own densities are ignored). Each point equals what
 * analyze() returns for the recipe at those densities (counts exactly; discarded_l1 up to
 * float64 summation order).
 */
export async function analyzeSweep(recipe: Recipe, densities: number[], opts: AnalyzeOptions = {}): Promise<SweepReport> {
  validateRecipe(recipe);
  validateAnalyzeOptions(opts);
  expectArg(
    Array.isArray(densities) && densities.length > 0 && densities.every((d) => typeof d === "number" && Number.isFinite(d) && d >= 0 && d <= 1),
    "a non-empty array of densities in [0, 1]",
    "densities",
    densities,
  );
  if (recipe.method !== "ties") {
    throw new EngineError("RECIPE_INVALID", `density sweeps run on merge_method ties; this recipe uses ${recipe.method}`);
  }
  await checkInputsExist(recipe);
  if (needsPlan(recipe)) {
    throw new EngineError("RECIPE_INVALID", "density sweeps take one density per model; this recipe has slices or per-layer (gradient/filter) parameters");
  }
  const prepared = buildRequest(recipe, null, opts);
  const request = { ...prepared.request, densities };
  const result = await runNativeMerge(request, { onProgress: opts.onProgress, signal: opts.signal });
  if (!result.sweep) throw new Error("engine returned no sweep for a sweep request");
  return sweepReportFor(recipe, request, result, result.sweep, result.warnings, densities, opts);
}

/** One sweep's report from the engine's grid points (analyzeSweep, and each checkpoint of analyzeSeries). */
function sweepReportFor(
  recipe: Recipe,
  request: NativeMergeRequest,
  result: NativeMergeResult,
  points: NativeSweepPoint[],
  warnings: string[],
  densities: number[],
  opts: AnalyzeOptions,
): SweepReport {
  const sweep = points.map((point) => {
    const source = { ...request, models: request.models.map((m, i) => ({ ...m, density: point.densities[i]! })) };
    const r = buildStatsReport(source, { ...result, tensors: point.tensors, warnings }, { roles: opts.roles });
    return { densities: point.densities, totals: r.totals, tensors: r.tensors, byLayer: r.byLayer, byModule: r.byModule };
  });
  // The models as every point's report names them (path, role, weight, favored), without the per-point density.
  const models = request.models.map((m, i) => {
    const role = opts.roles?.[i];
    return { path: m.path, ...(role !== undefined ? { role } : {}), weight: m.weight, favored: m.favored };
  });
  return { method: recipe.method, tie_order: request.tieOrder, models, densities: [...densities], sweep, warnings: [...warnings] };
}

export interface SeriesReport {
  /** Per checkpoint (the recipes' order): what analyzeSweep returns for that recipe. */
  checkpoints: SweepReport[];
  /** Input bytes the one pass read (base and SFT once, each CT once). */
  bytesRead: number;
  seconds: number;
}

/**
 * The density sweeps of several `ties` recipes that differ only in their second model (the CT
 * checkpoint of a series: base, SFT, CT_i), from ONE engine pass that reads the base and the SFT
 * once and each checkpoint once (N + 2 model reads instead of 3N). checkpoints[i] equals
 * analyzeSweep(recipes[i], densities) -- the same kernel on the same arrays, bit for bit.
 * Recipes with LoRA inputs, a tokenizer merge, slices or per-layer parameters are refused:
 * sweep those one by one.
 */
export async function analyzeSeries(recipes: Recipe[], densities: number[], opts: AnalyzeOptions = {}): Promise<SeriesReport> {
  expectArg(Array.isArray(recipes) && recipes.length > 0, "a non-empty array of recipes", "recipes", recipes);
  recipes.forEach(validateRecipe);
  validateAnalyzeOptions(opts);
  expectArg(
    Array.isArray(densities) && densities.length > 0 && densities.every((d) => typeof d === "number" && Number.isFinite(d) && d >= 0 && d <= 1),
    "a non-empty array of densities in [0, 1]",
    "densities",
    densities,
  );
  recipes.forEach((r, i) => {
    const where = `series recipe ${i + 1} of ${recipes.length}`;
    if (r.method !== "ties") throw new EngineError("RECIPE_INVALID", `${where}: the series pass runs the ties density sweep; this recipe uses ${r.method}`);
    if (r.models.length !== 2) throw new EngineError("RECIPE_INVALID", `${where}: a series recipe has two models (SFT, then the CT checkpoint); it has ${r.models.length}`);
    if (needsPlan(r)) throw new EngineError("RECIPE_INVALID", `${where}: density sweeps take one density per model; this recipe has slices or per-layer (gradient/filter) parameters`);
    if (r.baseLora || r.models.some((m) => m.lora) || r.tokenizer) {
      throw new EngineError("RECIPE_INVALID", `${where}: LoRA inputs and tokenizer merges are not supported by the series pass; queue analyze-sweep per checkpoint`);
    }
  });
  for (const r of recipes) await checkInputsExist(r);
  const requests = recipes.map((r) => buildRequest(r, null, opts).request);
  // Everything but the CT checkpoint must be the same, or one pass cannot serve every recipe.
  const shared = (q: NativeMergeRequest) => JSON.stringify({ ...q, models: [q.models[0]] });
  requests.forEach((q, i) => {
    if (shared(q) !== shared(requests[0]!)) {
      throw new EngineError("RECIPE_INVALID", `series recipe ${i + 1} differs from the first in more than its second (CT) model: base, SFT and parameters must be the same`);
    }
  });
  const request: NativeMergeRequest = { ...requests[0]!, densities, series: true, models: [requests[0]!.models[0]!, ...requests.map((q) => q.models[1]!)] };
  const result = await runNativeMerge(request, { onProgress: opts.onProgress, signal: opts.signal });
  if (!result.series || result.series.length !== recipes.length) throw new Error("engine returned no series for a series request");
  const checkpoints = result.series.map((ck, i) => sweepReportFor(recipes[i]!, { ...requests[i]!, densities }, result, ck.sweep, ck.warnings, densities, opts));
  return { checkpoints, bytesRead: result.bytesRead, seconds: result.seconds };
}

/** Runs the merge arithmetic without writing anything and returns the statistics. */
export async function analyze(recipe: Recipe, opts: AnalyzeOptions = {}): Promise<StatsReport> {
  validateRecipe(recipe);
  validateAnalyzeOptions(opts);
  await checkInputsExist(recipe);
  const prepared = buildRequest(recipe, null, opts, planFor(recipe, opts));
  const result = await runNativeMerge(prepared.request, { onProgress: opts.onProgress, signal: opts.signal });
  return reportFor(recipe, prepared, result, opts);
}
