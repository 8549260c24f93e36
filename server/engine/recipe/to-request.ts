// Recipe → the plain request the native engine takes (server/engine/types.ts).
import path from "node:path";
import type { ComputeDtype, NativeMergeRequest, NativePlan, StorageDtype } from "../types";
import { RecipeError } from "./errors";
import { isNewerMethod } from "./newer-methods";
import { computeDtypeOf, storageDtypeOf, type Recipe } from "./types";

export interface RecipeRequestOptions {
  /** Directory (existing, empty) that receives the shards; null = statistics only. */
  outDir: string | null;
  shardSizeBytes: number;
  /** 0 = all cores. */
  threads: number;
  /** Overrides the recipe's `dtype` for the arithmetic only; the output dtype stays what the recipe produces. */
  computeDtypeOverride?: "float32" | "storage";
  /**
   * The base model's storage dtype. Needed only when the override switches a recipe without
   * `dtype`/`out_dtype` to float32 arithmetic: the output must stay in the storage dtype, and
   * the engine contract can only express that as an explicit outDtype.
   */
  baseStorageDtype?: StorageDtype;
  /** Density sweep (analysis only): every combination of these densities across the models. */
  densities?: number[] | null;
  /** Explicit per-tensor plan (server/engine/plan) for slices, gradients and filters. */
  plan?: NativePlan | null;
}

function expectFor(ok: boolean, what: string, field: string, got: unknown): void {
  if (!ok) throw new TypeError(`expected ${what} for ${field}, got ${JSON.stringify(got) ?? String(got)}`);
}

export function recipeToNativeRequest(recipe: Recipe, opts: RecipeRequestOptions): NativeMergeRequest {
  expectFor(typeof recipe === "object" && recipe !== null && Array.isArray(recipe.models), "a parsed Recipe", "recipe", recipe);
  expectFor(opts.outDir === null || (typeof opts.outDir === "string" && opts.outDir !== ""), "null or a directory path", "outDir", opts.outDir);
  expectFor(Number.isSafeInteger(opts.shardSizeBytes) && opts.shardSizeBytes > 0, "a positive integer", "shardSizeBytes", opts.shardSizeBytes);
  expectFor(Number.isInteger(opts.threads) && opts.threads >= 0, "an integer >= 0", "threads", opts.threads);
  const override = opts.computeDtypeOverride;
  expectFor(override === undefined || override === "float32" || override === "storage", "float32 | storage", "computeDtypeOverride", override);

  const recipeCompute = computeDtypeOf(recipe.dtype);
  const computeDtype: ComputeDtype = override === undefined ? recipeCompute : override === "float32" ? "F32" : "storage";
  let outDtype: StorageDtype | null = recipe.outDtype === null ? null : storageDtypeOf(recipe.outDtype);
  if (outDtype === null && computeDtype !== recipeCompute) {
    // null means "the compute dtype, or storage when computing in storage dtype"; changing
    // the compute dtype must not change what the recipe writes, so pin the recipe's output dtype.
    if (recipeCompute !== "storage") outDtype = recipeCompute;
    else if (opts.baseStorageDtype) outDtype = opts.baseStorageDtype;
    else {
      throw new RecipeError([
        {
          path: "out_dtype",
          line: null,
          message:
            "computing in float32 would also write float32 weights, and the storage dtype of the base model is not known here; add `out_dtype:` to the recipe (e.g. bfloat16)",
        },
      ]);
    }
  }

  return {
    method: recipe.method,
    consensus: recipe.consensus,
    normalize: recipe.normalize,
    lambda: recipe.lambda,
    computeDtype,
    outDtype,
    slack: recipe.slack,
    slackScope: recipe.slackScope,
    rescale: recipe.rescale,
    seed: recipe.seed,
    randomStream: recipe.randomStream,
    tieOrder: recipe.tieOrder,
    keepIfNoOutliers: recipe.keepIfNoOutliers,
    t: recipe.t,
    filterWise: recipe.filterWise,
    // optional in the contract: only the methods that read them carry them
    ...(isNewerMethod(recipe.method)
      ? {
          selectTopk: recipe.selectTopk,
          nuslerpFlatten: recipe.nuslerpFlatten,
          nuslerpRowWise: recipe.nuslerpRowWise,
          normalizeWeights: recipe.normalizeWeights,
          eps: recipe.eps,
          maxIter: recipe.maxIter,
          tol: recipe.tol,
        }
      : {}),
    densities: opts.densities ?? null,
    // The engine's linear and passthrough take no base: the first model defines the tensor set.
    // Their base_model (one of the models for linear) only sources config/tokenizer.
    basePath: recipe.method === "linear" || recipe.method === "passthrough" ? null : recipe.basePath,
    models: recipe.models.map((m) => ({
      path: m.path,
      weight: m.weight,
      density: m.density,
      favored: m.favored,
      gamma: m.gamma,
      epsilon: m.epsilon,
      ...(recipe.method === "passthrough" ? { scale: m.scale ?? null } : {}),
    })),
    plan: opts.plan ?? null,
    outDir: opts.outDir === null ? null : path.resolve(opts.outDir),
    shardSizeBytes: opts.shardSizeBytes,
    threads: opts.threads,
  };
}
