import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { apiClient, describeConnectionError, serverUrl } from "../api-client";
import { CliUsageError } from "../command";
import { MERGE_METHODS } from "../../engine/recipe/types";
import type { MergeMethod } from "../../engine/types";

const METHODS = MERGE_METHODS;
type Method = MergeMethod;

function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(",").map((s) => s.trim()).filter(Boolean);
}

/** "0.2,0.4;1.0" → [[0.2, 0.4], [1.0]] (one list per model, recipe order). */
export function parseDensityGrid(value: string): number[][] {
  return value.split(";").map((group, i) =>
    group.split(",").map((s) => {
      const v = Number(s.trim());
      if (!Number.isFinite(v) || v < 0 || v > 1) throw new CliUsageError(`--sweep-densities: model ${i + 1}: '${s}' is not a density in [0, 1]`);
      return v;
    }),
  );
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      analyze: { type: "boolean" },
      server: { type: "string" },
      priority: { type: "string" },
      force: { type: "boolean" },
      json: { type: "boolean" },
      "sweep-checkpoints": { type: "string" },
      "sweep-methods": { type: "string" },
      "sweep-densities": { type: "string" },
    },
  });
  if (positionals.length === 0) throw new CliUsageError("give at least one RECIPE.yml");
  const priority = values.priority === undefined ? undefined : Number(values.priority);
  if (priority !== undefined && (!Number.isInteger(priority) || Math.abs(priority) > 100)) throw new CliUsageError("--priority must be an integer in [-100, 100]");
  const methods = list(values["sweep-methods"]);
  for (const m of methods ?? []) if (!(METHODS as readonly string[]).includes(m)) throw new CliUsageError(`--sweep-methods: unknown method '${m}' (${METHODS.join(", ")})`);
  const sweeping = values["sweep-checkpoints"] !== undefined || methods !== undefined || values["sweep-densities"] !== undefined;
  const type = values.analyze ? "analyze" : "merge";
  const url = serverUrl(values.server);
  const api = apiClient(url);
  const submitted: { id: string; label: string; created: boolean; status: string }[] = [];
  try {
    for (const file of positionals) {
      const recipePath = path.resolve(file);
      const recipeYaml = readFileSync(recipePath, "utf8");
      const recipeDir = path.dirname(recipePath);
      if (sweeping) {
        const r = await api.jobs.sweep.mutate({
          type,
          recipeYaml,
          recipeDir,
          checkpoints: list(values["sweep-checkpoints"])?.map((p) => (path.isAbsolute(p) ? p : path.resolve(p))),
          methods: methods as Method[] | undefined,
          densities: values["sweep-densities"] ? parseDensityGrid(values["sweep-densities"]) : undefined,
          priority,
          labelPrefix: `${type} ${path.basename(file)}`,
        });
        for (const j of r.jobs) submitted.push({ id: j.id, label: j.label, created: true, status: j.status });
      } else {
        const r = await api.jobs.enqueue.mutate({ type, payload: { recipeYaml, recipeDir, label: `${type} ${path.basename(file)}` }, priority, force: values.force });
        submitted.push({ id: r.job.id, label: r.job.label, created: r.created, status: r.job.status });
      }
    }
  } catch (err) {
    throw describeConnectionError(err, url);
  }
  if (values.json) console.log(JSON.stringify(submitted, null, 2));
  else for (const s of submitted) console.log(`${s.id}\t${s.status}${s.created ? "" : " (existing)"}\t${s.label}`);
  return 0;
}
