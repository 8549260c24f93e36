// `mergescope import-scores FILE...`: uploads lm-evaluation-harness results
// files to a running server (its scores.importFiles procedure). A folder
// contributes the results*.json files under it. Malformed files are reported
// with their line and field; the others are still imported.
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { LIMITS } from "../../limits";
import { formatBytes } from "../../paths/format";
import { apiClient, describeConnectionError, serverUrl } from "../api-client";
import { CliUsageError } from "../command";
import { findResultsFiles } from "../../services/scores/eval-runner";
import type { ImportOutcome } from "../../services/scores/import";

async function expand(inputs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of inputs) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new CliUsageError(`${p}: no such file or folder`);
    }
    if (st.isDirectory()) {
      const found = await findResultsFiles(p, 6);
      if (found.length === 0) throw new CliUsageError(`${p}: no results*.json file in this folder`);
      out.push(...found);
    } else out.push(p);
  }
  return [...new Set(out)];
}

/** One line per file (and its split choices): what was imported, under which model. */
export function describeOutcome(o: ImportOutcome): string[] {
  if (!o.ok) return [`✗ ${o.error}`];
  const s = o.summary;
  const model = s.modelId ? `model ${s.modelLabel ?? s.modelId} (${s.modelId}, matched by ${s.matchedBy})` : `model name "${s.modelName}" (no registered model has this path: confirm its model in the review on the Scores page)`;
  const counts = s.duplicate ? "already imported, nothing changed" : `${s.created} new, ${s.updated} updated, ${s.unchanged} unchanged`;
  const lines = [`✓ ${s.fileName}: ${s.total} scores for ${model} — ${counts}`];
  const bySplit = new Map<string, string[]>();
  for (const t of s.tasks) {
    const k = `${t.split} — ${t.splitSource}`;
    bySplit.set(k, [...(bySplit.get(k) ?? []), t.task]);
  }
  for (const [k, tasks] of bySplit) lines.push(`    split ${k}: ${tasks.join(", ")}`);
  for (const w of s.warnings) lines.push(`    warning: ${w}`);
  return lines;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { model: { type: "string" }, split: { type: "string" }, json: { type: "boolean" }, server: { type: "string" } },
  });
  if (positionals.length === 0) throw new CliUsageError("give at least one results file");
  if (values.split !== undefined && values.split !== "dev" && values.split !== "test") throw new CliUsageError(`--split must be dev or test, got '${values.split}'`);
  const files = await expand(positionals);
  const url = serverUrl(values.server);
  const client = apiClient(url);
  const outcomes: ImportOutcome[] = [];
  for (const f of files) {
    // The server refuses larger files; say so before uploading them.
    const size = statSync(f).size;
    if (size > LIMITS.resultsFileBytes) {
      outcomes.push({ ok: false, fileName: path.basename(f), error: `${f} is ${formatBytes(size)}, above the ${formatBytes(LIMITS.resultsFileBytes)} limit for a results file; not uploaded` });
      continue;
    }
    const text = readFileSync(f, "utf8");
    try {
      const [o] = await client.scores.importFiles.mutate({ files: [{ fileName: path.basename(f), text }], modelId: values.model ?? null, split: (values.split as "dev" | "test" | undefined) ?? null });
      if (o) outcomes.push(o);
    } catch (err) {
      throw describeConnectionError(err, url);
    }
  }
  if (values.json) console.log(JSON.stringify(outcomes, null, 2));
  else for (const o of outcomes) for (const line of describeOutcome(o)) (o.ok ? console.log : console.error)(line);
  const failed = outcomes.filter((o) => !o.ok).length;
  if (!values.json && files.length > 1) console.log(`${files.length - failed} of ${files.length} file(s) imported`);
  return failed > 0 ? 1 : 0;
}
