import { writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { merge } from "../../engine/merge";
import { DEFAULT_SHARD_SIZE_BYTES, parseByteSize } from "../../engine/output/shard-size";
import { loadRecipeFile } from "../../engine/recipe/load";
import { applyRecipeOverrides, type RecipeOverrides } from "../../engine/recipe/overrides";
import type { Recipe } from "../../engine/recipe/types";
import { RANDOM_STREAMS, TIE_ORDERS, type RandomStream, type TieOrder } from "../../engine/types";
import { formatStatsSummary } from "../../engine/stats/summary";
import { CliUsageError } from "../command";
import { createProgressReporter, formatBytes } from "../progress-bar";

// ---- helpers shared by `merge` and `analyze` --------------------------------------------

export function parseThreadsOption(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value) || Number(value) > 1024) throw new CliUsageError(`--threads: expected an integer in [0, 1024] (0 = all cores), got '${value}'`);
  return Number(value);
}

/** `--densities 0.01,0.2,...`: each in [0, 1]. */
export function parseDensitiesOption(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(",").map((x) => x.trim());
  const nums = parts.map(Number);
  const bad = parts.findIndex((p, i) => p === "" || !Number.isFinite(nums[i]!) || nums[i]! < 0 || nums[i]! > 1);
  if (bad >= 0) throw new CliUsageError(`--densities expects comma-separated numbers in [0, 1], got "${parts[bad]}" in "${value}"`);
  return nums;
}

/** `--seed N`: DARE's generator seed, an integer in [0, 2^53). */
export function parseSeedOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new CliUsageError(`--seed expects an integer in [0, 2^53), got "${value}"`);
  return n;
}

/** `--tie-order mergekit|index`. */
export function parseTieOrderOption(value: string | undefined): TieOrder | undefined {
  if (value === undefined || (TIE_ORDERS as readonly string[]).includes(value)) return value as TieOrder | undefined;
  throw new CliUsageError(`--tie-order: expected ${TIE_ORDERS.join(" or ")}, got '${value}'`);
}

/** `--random counter|mergekit`. */
export function parseRandomOption(value: string | undefined): RandomStream | undefined {
  if (value === undefined || (RANDOM_STREAMS as readonly string[]).includes(value)) return value as RandomStream | undefined;
  throw new CliUsageError(`--random: expected ${RANDOM_STREAMS.join(" or ")}, got '${value}'`);
}

/** The options of `merge` and `analyze` that override recipe settings. */
export const RECIPE_OVERRIDE_OPTIONS = {
  seed: { type: "string" },
  "tie-order": { type: "string" },
  random: { type: "string" },
} as const;

export function parseRecipeOverrides(values: { seed?: string; "tie-order"?: string; random?: string }): RecipeOverrides {
  return { seed: parseSeedOption(values.seed), tieOrder: parseTieOrderOption(values["tie-order"]), randomStream: parseRandomOption(values.random) };
}

export function parseComputeDtypeOption(value: string | undefined): "float32" | "storage" | undefined {
  if (value === undefined || value === "float32" || value === "storage") return value;
  throw new CliUsageError(`--compute-dtype: expected float32 or storage, got '${value}'`);
}

export const EXIT_CANCELLED = 130;

/**
 * Runs `fn` with an AbortSignal tied to Ctrl-C (and SIGTERM): the first signal cancels the
 * merge cleanly (staging removed), a second one quits at once.
 */
export async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT_CANCELLED);
    process.stderr.write("\ncancelling (press Ctrl-C again to quit immediately)...\n");
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/**
 * Loads the recipe and prints its notes; recipe problems and cancellation become exit codes
 * (2 and 130). Other errors propagate to main(), which prints `[CODE] message` and exits 1.
 */
export async function runRecipeCommand(
  name: string,
  recipeFile: string,
  overrides: RecipeOverrides,
  body: (recipe: Recipe) => Promise<number>,
): Promise<number> {
  try {
    const recipe = applyRecipeOverrides(await loadRecipeFile(recipeFile), overrides);
    for (const note of recipe.notes) process.stderr.write(`note: ${note}\n`);
    return await body(recipe);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === "RECIPE_INVALID") {
      console.error(`mergescope ${name}: ${(err as Error).message}`);
      return 2;
    }
    if (code === "CANCELLED") {
      console.error(`mergescope ${name}: [CANCELLED] ${(err as Error).message}`);
      return EXIT_CANCELLED;
    }
    throw err;
  }
}

// ---- mergescope merge ---------------------------------------------------------------------

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      threads: { type: "string" },
      "shard-size": { type: "string" },
      stats: { type: "string" },
      "compute-dtype": { type: "string" },
      ...RECIPE_OVERRIDE_OPTIONS,
      overwrite: { type: "boolean" },
    },
  });
  if (positionals.length !== 2) throw new CliUsageError(`expected RECIPE.yml and OUT_DIR, got ${positionals.length} argument(s)`);
  const [recipeFile, outDir] = positionals as [string, string];
  const threads = parseThreadsOption(values.threads);
  const computeDtype = parseComputeDtypeOption(values["compute-dtype"]);
  let shardSizeBytes = DEFAULT_SHARD_SIZE_BYTES;
  if (values["shard-size"] !== undefined) {
    try {
      shardSizeBytes = parseByteSize(values["shard-size"]);
    } catch (err) {
      throw new CliUsageError(`--shard-size: ${(err as Error).message}`);
    }
  }
  const statsFile = values.stats === undefined ? null : path.resolve(values.stats);
  const overrides = parseRecipeOverrides(values);

  return runRecipeCommand("merge", recipeFile, overrides, async (recipe) => {
    const progress = createProgressReporter(process.stderr);
    const outcome = await withInterrupt((signal) =>
      merge(recipe, outDir, { threads, shardSizeBytes, computeDtype, overwrite: values.overwrite ?? false, signal, onProgress: progress.update }).finally(
        () => progress.done(),
      ),
    );
    if (statsFile) await writeFile(statsFile, `${JSON.stringify(outcome.stats, null, 2)}\n`);
    const r = outcome.result;
    console.log(outcome.outDir);
    console.log(
      `${r.shards.length} shard(s), ${formatBytes(r.bytesWritten)} written, ${formatBytes(r.bytesRead)} read in ${r.seconds.toFixed(1)} s; sha256 ${outcome.manifestSha256}`,
    );
    console.log("");
    for (const line of formatStatsSummary(outcome.stats)) console.log(line);
    if (statsFile) console.log(`\nstatistics written to ${statsFile}`);
    return 0;
  });
}
