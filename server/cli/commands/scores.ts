// `mergescope scores`: the scores a running server holds, one line per score
// (model, task, split, metric, filter, value, stderr, source file), or JSON.
import { parseArgs } from "node:util";
import { apiClient, describeConnectionError, serverUrl } from "../api-client";
import { CliUsageError } from "../command";

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd()).join("\n");
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { model: { type: "string" }, split: { type: "string" }, task: { type: "string" }, json: { type: "boolean" }, server: { type: "string" } } });
  if (values.split !== undefined && values.split !== "dev" && values.split !== "test") throw new CliUsageError(`--split must be dev or test, got '${values.split}'`);
  const url = serverUrl(values.server);
  let rows;
  try {
    rows = await apiClient(url).scores.list.query({ modelId: values.model, split: values.split as "dev" | "test" | undefined, task: values.task });
  } catch (err) {
    throw describeConnectionError(err, url);
  }
  if (values.json) {
    console.log(
      JSON.stringify(
        rows.map((r) => ({ modelId: r.modelId, model: r.modelLabel ?? r.modelName, modelName: r.modelName, task: r.task, split: r.split, splitSource: r.splitSource, metric: r.metric, filter: r.filter, value: r.value, stderr: r.stderr, nShot: r.nShot, sourceFile: r.sourceFile, sourceHash: r.sourceHash })),
        null,
        2,
      ),
    );
    return 0;
  }
  if (rows.length === 0) {
    console.log("no scores");
    return 0;
  }
  console.log(
    table([
      ["MODEL", "TASK", "SPLIT", "METRIC", "FILTER", "VALUE", "STDERR", "SOURCE FILE"],
      ...rows.map((r) => [r.modelLabel ?? r.modelName, r.task, r.split, r.metric, r.filter, r.value.toFixed(4), r.stderr === null ? "N/A" : r.stderr.toFixed(4), r.sourceFile ?? ""]),
    ]),
  );
  return 0;
}
