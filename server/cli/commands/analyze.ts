import path from "node:path";
import { parseArgs } from "node:util";
import { analyze, analyzeSeries, analyzeSweep } from "../../engine/merge";
import { formatStatsSummary } from "../../engine/stats/summary";
import { CliUsageError } from "../command";
import { createProgressReporter } from "../progress-bar";
import {
  parseComputeDtypeOption,
  parseDensitiesOption,
  parseRecipeOverrides,
  parseThreadsOption,
  RECIPE_OVERRIDE_OPTIONS,
  runRecipeCommand,
  withInterrupt,
} from "./merge";
import type { SweepReport } from "../../engine/merge";
import type { Recipe } from "../../engine/recipe/types";

/** One line per grid point: densities, sign conflicts and each model's discarded share. */
function formatSweepSummary(r: SweepReport): string[] {
  const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(2)}%` : "-");
  return [
    `method: ${r.method}, ${r.sweep.length} density combinations over ${r.models.length} models`,
    ...r.sweep.map((p) => {
      const t = p.totals;
      const models = p.densities.map((d, i) => `m${i}@${d}: discarded ${pct(t.discarded[i]!, t.nnz_trimmed[i]!)}`).join(", ");
      return `  [${p.densities.join(", ")}] sign conflicts ${pct(t.sign_conflicts, t.numel)}; ${models}`;
    }),
  ];
}

/** `--series A,B,...`: CT checkpoint folders (relative to the working directory) that replace the recipe's second model. */
function parseSeriesOption(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(",");
  if (parts.some((p) => p.trim() === "")) throw new CliUsageError(`--series expects comma-separated checkpoint folders, got "${value}"`);
  return parts.map((p) => path.resolve(p.trim()));
}

/** The recipe with its CT model (the second of SFT, CT) replaced by a checkpoint of the series. */
function withCheckpoint(recipe: Recipe, checkpoint: string): Recipe {
  if (recipe.models.length !== 2) throw new CliUsageError(`--series needs a recipe with two models (SFT, then the CT checkpoint it replaces); this one has ${recipe.models.length}`);
  return { ...recipe, models: [recipe.models[0]!, { ...recipe.models[1]!, path: checkpoint, source: checkpoint, hf: null, lora: null }] };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: "boolean" },
      threads: { type: "string" },
      "compute-dtype": { type: "string" },
      densities: { type: "string" },
      series: { type: "string" },
      ...RECIPE_OVERRIDE_OPTIONS,
    },
  });
  if (positionals.length !== 1) throw new CliUsageError(`expected one RECIPE.yml, got ${positionals.length} argument(s)`);
  const threads = parseThreadsOption(values.threads);
  const computeDtype = parseComputeDtypeOption(values["compute-dtype"]);
  const densities = parseDensitiesOption(values.densities);
  const series = parseSeriesOption(values.series);
  if (series && !densities) throw new CliUsageError("--series needs --densities (the grid swept for every checkpoint)");
  const overrides = parseRecipeOverrides(values);
  return runRecipeCommand("analyze", positionals[0]!, overrides, async (recipe) => {
    const progress = createProgressReporter(process.stderr);
    if (series && densities) {
      const recipes = series.map((ckpt) => withCheckpoint(recipe, ckpt));
      const report = await withInterrupt((signal) =>
        analyzeSeries(recipes, densities, { threads, computeDtype, signal, onProgress: progress.update }).finally(() => progress.done()),
      );
      const checkpoints = report.checkpoints.map((r, i) => ({ checkpoint: recipes[i]!.models[1]!.path, ...r }));
      if (values.json) console.log(JSON.stringify({ densities, checkpoints, bytesRead: report.bytesRead, seconds: report.seconds }, null, 2));
      else
        for (const c of checkpoints) {
          console.log(`checkpoint ${c.checkpoint}`);
          for (const line of formatSweepSummary(c)) console.log(line);
        }
      return 0;
    }
    if (densities) {
      const sweep = await withInterrupt((signal) =>
        analyzeSweep(recipe, densities, { threads, computeDtype, signal, onProgress: progress.update }).finally(() => progress.done()),
      );
      if (values.json) console.log(JSON.stringify(sweep, null, 2));
      else for (const line of formatSweepSummary(sweep)) console.log(line);
      return 0;
    }
    const report = await withInterrupt((signal) =>
      analyze(recipe, { threads, computeDtype, signal, onProgress: progress.update }).finally(() => progress.done()),
    );
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else for (const line of formatStatsSummary(report, { detail: true })) console.log(line);
    return 0;
  });
}
