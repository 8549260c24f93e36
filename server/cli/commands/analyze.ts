import { parseArgs } from "node:util";
import { analyze } from "../../engine/merge";
import { formatStatsSummary } from "../../engine/stats/summary";
import { CliUsageError, type CliCommand } from "../command";
import { createProgressReporter } from "../progress-bar";
import { parseComputeDtypeOption, parseThreadsOption, runRecipeCommand, withInterrupt } from "./merge";

export const analyzeCommand: CliCommand = {
  name: "analyze",
  summary: "Run a recipe without writing a model and print what the merge would do",
  usage:
    "mergescope analyze RECIPE.yml [--json] [--threads N] [--compute-dtype float32|storage]\n\n" +
    "  --json                 the full statistics (per tensor, layer and module) as JSON on stdout\n" +
    "  --threads N            engine threads (default 0 = all cores)\n" +
    "  --compute-dtype D      float32 or storage (default: the recipe's `dtype`)",
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { json: { type: "boolean" }, threads: { type: "string" }, "compute-dtype": { type: "string" } },
    });
    if (positionals.length !== 1) throw new CliUsageError(`expected one RECIPE.yml, got ${positionals.length} argument(s)`);
    const threads = parseThreadsOption(values.threads);
    const computeDtype = parseComputeDtypeOption(values["compute-dtype"]);
    return runRecipeCommand("analyze", positionals[0]!, async (recipe) => {
      const progress = createProgressReporter(process.stderr);
      const report = await withInterrupt((signal) =>
        analyze(recipe, { threads, computeDtype, signal, onProgress: progress.update }).finally(() => progress.done()),
      );
      if (values.json) console.log(JSON.stringify(report, null, 2));
      else for (const line of formatStatsSummary(report, { detail: true })) console.log(line);
      return 0;
    });
  },
};
