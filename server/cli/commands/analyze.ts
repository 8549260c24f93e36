import { parseArgs } from "node:util";
import { analyze, analyzeSweep } from "../../engine/merge";
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
      ...RECIPE_OVERRIDE_OPTIONS,
    },
  });
  if (positionals.length !== 1) throw new CliUsageError(`expected one RECIPE.yml, got ${positionals.length} argument(s)`);
  const threads = parseThreadsOption(values.threads);
  const computeDtype = parseComputeDtypeOption(values["compute-dtype"]);
  const densities = parseDensitiesOption(values.densities);
  const overrides = parseRecipeOverrides(values);
  return runRecipeCommand("analyze", positionals[0]!, overrides, async (recipe) => {
    const progress = createProgressReporter(process.stderr);
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
