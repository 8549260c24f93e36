import { parseArgs } from "node:util";
import { normalizePath } from "../../paths/normalize";
import { inspectModel } from "../../engine/native-merge";
import type { NativeInspectResult } from "../../engine/types";
import { CliUsageError } from "../command";
import { formatBytes } from "../progress-bar";

function formatCount(n: number): string {
  const short = n >= 1e9 ? ` (${(n / 1e9).toFixed(2)} B)` : n >= 1e6 ? ` (${(n / 1e6).toFixed(1)} M)` : "";
  return `${n.toLocaleString("en-US")}${short}`;
}

/** Human-readable listing of a model's tensors (exported for tests). */
export function formatInspect(info: NativeInspectResult): string[] {
  const byDtype = new Map<string, { tensors: number; params: number }>();
  for (const t of info.tensors) {
    const e = byDtype.get(t.dtype) ?? { tensors: 0, params: 0 };
    e.tensors += 1;
    e.params += t.shape.reduce((a, b) => a * b, 1);
    byDtype.set(t.dtype, e);
  }
  const nameWidth = Math.max(4, ...info.tensors.map((t) => t.name.length));
  return [
    `path:       ${info.path}`,
    `shards:     ${info.shards.length}${info.shards.length > 0 ? ` (${info.shards.map((s) => s.split(/[\\/]/).pop()).join(", ")})` : ""}`,
    `parameters: ${formatCount(info.parameterCount)}`,
    `size:       ${formatBytes(info.totalBytes)}`,
    `dtypes:     ${[...byDtype].map(([d, e]) => `${d} ${e.tensors} tensor${e.tensors === 1 ? "" : "s"} (${formatCount(e.params)} params)`).join(", ")}`,
    "",
    `${"name".padEnd(nameWidth)}  dtype  shape`,
    ...info.tensors.map((t) => `${t.name.padEnd(nameWidth)}  ${t.dtype.padEnd(5)}  [${t.shape.join(", ")}]`),
  ];
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { json: { type: "boolean" } } });
  if (positionals.length !== 1) throw new CliUsageError(`expected one PATH, got ${positionals.length} argument(s)`);
  // Relative to the working directory, as a shell user expects (the engine takes absolute paths).
  const info = inspectModel(normalizePath(positionals[0]!, "PATH", { relativeTo: process.cwd() }));
  if (values.json) console.log(JSON.stringify(info, null, 2));
  else for (const line of formatInspect(info)) console.log(line);
  return 0;
}
