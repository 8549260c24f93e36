// Reads an lm-evaluation-harness results file (`results_<date>.json`) into
// score rows, without touching the database. Understands the 0.4.x layout
// (`results` keyed by task with "metric,filter" keys, "<metric>_stderr,<filter>"
// stderr keys that may be "N/A", `groups`, `group_subtasks`, `configs`,
// `n-shot`, `higher_is_better`, `config.model_args` as a string or an object)
// and the older 0.3 layout (plain "acc" / "acc_stderr" keys). Anything that
// does not fit is rejected with the file, line and field at fault.
import { createHash } from "node:crypto";
import { LIMITS } from "../../limits";
import { describeJsonType, formatJsonPath, JsonSyntaxError, parseJsonWithLocations, type JsonPath, type LocatedJson } from "./json-locate";

export const SPLITS = ["dev", "test"] as const;
export type Split = (typeof SPLITS)[number];

export interface ParsedScore {
  task: string;
  metric: string;
  filter: string;
  value: number;
  stderr: number | null;
  nShot: number | null;
  higherIsBetter: boolean | null;
  isGroup: boolean;
  split: Split;
  /** Why this split: "option", "config test_split=…", "config validation_split=…", "subtasks", "default". */
  splitSource: string;
}

export interface ParsedResultsFile {
  fileName: string;
  sourceHash: string;
  modelName: string;
  /** model_args `pretrained` (a path or a hub name), used to match a registered model. */
  pretrained: string | null;
  /** model_args as written (string) or as JSON (object). */
  modelArgs: string | null;
  lmEvalVersion: string | null;
  evaluatedAt: string | null;
  splitOption: Split | null;
  scores: ParsedScore[];
  /** Per task (groups included): the split chosen and why — shown to the user. */
  tasks: { task: string; split: Split; splitSource: string; isGroup: boolean; metrics: number }[];
  warnings: string[];
}

/** A results file that cannot be imported; the message names the file, line and field. */
export class ResultsFileError extends Error {
  constructor(
    readonly fileName: string,
    readonly line: number,
    readonly column: number | null,
    readonly field: string | null,
    readonly detail: string,
  ) {
    super(`${fileName} line ${line}${column !== null ? `, column ${column}` : ""}: ${field ? `${field}: ` : ""}${detail}`);
    this.name = "ResultsFileError";
  }
}

/** sha256 of the file's text (UTF-8, without a byte-order mark): the same file gives the same hash from the UI, the CLI and a job. */
export function sourceHashOf(text: string): string {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return createHash("sha256").update(body, "utf8").digest("hex");
}

const DEV_SPLIT_NAMES = /^(dev|validation|valid|val|development)$/i;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `pretrained=/models/x,dtype=bfloat16` → { pretrained: "/models/x", dtype: "bfloat16" }. */
export function parseModelArgsString(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

interface Ctx {
  fileName: string;
  doc: LocatedJson;
}

function reject(ctx: Ctx, path: JsonPath, detail: string): never {
  const loc = ctx.doc.locate(path);
  throw new ResultsFileError(ctx.fileName, loc.line, null, path.length ? formatJsonPath(path) : null, detail);
}

interface TaskMetrics {
  metrics: { metric: string; filter: string; value: number; stderr: number | null }[];
  alias: string | null;
}

/** One entry of `results` / `groups`: its metric values and stderrs. */
function readTaskEntry(ctx: Ctx, section: string, task: string, entry: unknown, warnings: string[]): TaskMetrics {
  const path = [section, task];
  if (!isObject(entry)) reject(ctx, path, `expected an object of metric values, got ${describeJsonType(entry)}`);
  const keys = Object.keys(entry);
  const modern = keys.some((k) => k.includes(","));
  const values = new Map<string, { metric: string; filter: string; value: number }>();
  const stderrs = new Map<string, number | null>();
  let alias: string | null = null;
  for (const key of keys) {
    const v = entry[key];
    let metric: string;
    let filter: string;
    if (modern) {
      const comma = key.indexOf(",");
      if (comma < 0) {
        if (key === "alias" && typeof v === "string") alias = v.trim().replace(/^-\s*/, "");
        continue; // alias, name, samples, …: not metrics
      }
      metric = key.slice(0, comma);
      filter = key.slice(comma + 1);
      if (!metric || !filter) reject(ctx, [...path, key], `expected a "metric,filter" key`);
    } else {
      // lm-eval 0.3: "acc", "acc_stderr", …
      if (typeof v !== "number" && !(v === "N/A" || v === null)) {
        if (key === "alias" && typeof v === "string") alias = v;
        continue;
      }
      metric = key;
      filter = "none";
    }
    const isStderr = metric.endsWith("_stderr");
    const id = `${isStderr ? metric.slice(0, -7) : metric},${filter}`;
    if (isStderr) {
      if (typeof v === "number") stderrs.set(id, Number.isFinite(v) ? v : null);
      else if (v === "N/A" || v === null) stderrs.set(id, null);
      else reject(ctx, [...path, key], `expected a number or "N/A", got ${describeJsonType(v)}`);
      continue;
    }
    if (typeof v === "number") {
      if (!Number.isFinite(v)) {
        warnings.push(`${formatJsonPath([...path, key])} is ${String(v)}: not imported`);
        continue;
      }
      values.set(id, { metric, filter, value: v });
    } else if (v === "N/A" || v === null) {
      warnings.push(`${formatJsonPath([...path, key])} has no value (${v === null ? "null" : '"N/A"'}): not imported`);
    } else {
      reject(ctx, [...path, key], `expected a number, got ${describeJsonType(v)}`);
    }
  }
  const metrics = [...values.entries()].map(([id, m]) => ({ ...m, stderr: stderrs.get(id) ?? null }));
  if (metrics.length === 0) warnings.push(`${formatJsonPath(path)} has no metric values`);
  return { metrics, alias };
}

function optionalObject(ctx: Ctx, root: Record<string, unknown>, key: string, what: string): Record<string, unknown> | null {
  const v = root[key];
  if (v === undefined || v === null) return null;
  if (!isObject(v)) reject(ctx, [key], `expected ${what}, got ${describeJsonType(v)}`);
  return v;
}

function splitFromConfig(ctx: Ctx, configs: Record<string, unknown> | null, task: string): { split: Split; source: string } | null {
  if (!configs || configs[task] === undefined) return null;
  const cfg = configs[task];
  if (!isObject(cfg)) reject(ctx, ["configs", task], `expected an object (the task's config), got ${describeJsonType(cfg)}`);
  for (const key of ["test_split", "validation_split"] as const) {
    const v = cfg[key];
    if (v !== undefined && v !== null && typeof v !== "string") reject(ctx, ["configs", task, key], `expected a split name or null, got ${describeJsonType(v)}`);
  }
  const test = cfg.test_split;
  const validation = cfg.validation_split;
  // lm-eval evaluates on test_split when the task has one, else on validation_split.
  if (typeof test === "string" && test) return { split: DEV_SPLIT_NAMES.test(test) ? "dev" : "test", source: `config test_split=${test}` };
  if (typeof validation === "string" && validation) return { split: "dev", source: `config validation_split=${validation}` };
  return null;
}

export interface ParseOptions {
  /** Explicit split for every score in the file (otherwise inferred per task). */
  split?: Split | null;
}

/** Refuses a results file above LIMITS.resultsFileBytes before anything parses it. */
export function checkResultsFileSize(fileName: string, bytes: number): void {
  if (bytes > LIMITS.resultsFileBytes)
    throw new ResultsFileError(
      fileName,
      1,
      null,
      null,
      `the file is ${bytes} bytes, above the ${LIMITS.resultsFileBytes}-byte limit for an lm-evaluation-harness results file (real ones are well under 1 MB; per-sample logs belong in samples_*.jsonl); it was not parsed`,
    );
}

/** Parses and validates one results file. Throws ResultsFileError (with line and field) when it cannot be imported. */
export function parseLmEvalResults(fileName: string, text: string, opts: ParseOptions = {}): ParsedResultsFile {
  checkResultsFileSize(fileName, Buffer.byteLength(text));
  let doc: LocatedJson;
  try {
    doc = parseJsonWithLocations(text, 4, LIMITS.resultsDepth);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new ResultsFileError(fileName, err.line, err.column, null, `not valid JSON: ${err.detail}`);
    throw err;
  }
  const ctx: Ctx = { fileName, doc };
  const root = doc.value;
  if (!isObject(root)) reject(ctx, [], `expected an lm-evaluation-harness results object, got ${describeJsonType(root)}`);
  if (root.results === undefined) reject(ctx, [], "no `results` member: not an lm-evaluation-harness results file");
  const results = root.results;
  if (!isObject(results)) reject(ctx, ["results"], `expected an object of task results, got ${describeJsonType(results)}`);
  const groups = optionalObject(ctx, root, "groups", "an object of group results");
  const configs = optionalObject(ctx, root, "configs", "an object of task configs");
  const nShotSection = optionalObject(ctx, root, "n-shot", "an object of task → number of shots");
  const hib = optionalObject(ctx, root, "higher_is_better", "an object of task → metric → boolean");
  const groupSubtasks = optionalObject(ctx, root, "group_subtasks", "an object of group → subtask names");
  const config = optionalObject(ctx, root, "config", "an object (the run's configuration)");
  const warnings: string[] = [];

  // Model identity.
  let pretrained: string | null = null;
  let modelArgs: string | null = null;
  const ma = config?.model_args;
  if (typeof ma === "string") {
    modelArgs = ma;
    pretrained = parseModelArgsString(ma).pretrained ?? null;
  } else if (isObject(ma)) {
    modelArgs = JSON.stringify(ma);
    const p = ma.pretrained;
    if (p !== undefined && p !== null && typeof p !== "string") reject(ctx, ["config", "model_args", "pretrained"], `expected a path or model name, got ${describeJsonType(p)}`);
    pretrained = typeof p === "string" ? p : null;
  } else if (ma !== undefined && ma !== null) {
    reject(ctx, ["config", "model_args"], `expected a "pretrained=…,dtype=…" string or an object, got ${describeJsonType(ma)}`);
  }
  const modelNameField = typeof root.model_name === "string" && root.model_name.trim() ? root.model_name.trim() : null;
  const configModel = typeof config?.model === "string" && config.model.trim() ? config.model.trim() : null;
  const modelName = modelNameField ?? pretrained ?? configModel ?? "unknown model";
  if (modelName === "unknown model") warnings.push("the file names no model (no model_name, config.model_args pretrained or config.model)");

  const legacyShots = typeof config?.num_fewshot === "number" ? config.num_fewshot : null;
  const nShotOf = (task: string): number | null => {
    const v = nShotSection?.[task];
    if (typeof v === "number" && Number.isInteger(v)) return v;
    if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
    return legacyShots;
  };
  const higherIsBetterOf = (task: string, metric: string): boolean | null => {
    const t = hib?.[task];
    if (!isObject(t)) return null;
    const v = t[metric];
    return typeof v === "boolean" ? v : null;
  };

  // lm-eval lists every task in group_subtasks (plain tasks with []); a group has subtasks or a `groups` entry.
  const groupNames = new Set<string>([
    ...Object.keys(groups ?? {}),
    ...Object.entries(groupSubtasks ?? {})
      .filter(([, subs]) => Array.isArray(subs) && subs.length > 0)
      .map(([g]) => g),
  ]);
  const taskCount = Object.keys(results).length + (groups ? Object.keys(groups).length : 0);
  if (taskCount > LIMITS.resultsTasks)
    reject(ctx, ["results"], `the file lists ${taskCount} tasks (results + groups), above the limit of ${LIMITS.resultsTasks} per file; split the evaluation into several runs`);
  const entries: { task: string; section: string; entry: unknown }[] = [];
  for (const [task, entry] of Object.entries(results)) entries.push({ task, section: "results", entry });
  for (const [task, entry] of Object.entries(groups ?? {})) if (!(task in results)) entries.push({ task, section: "groups", entry });
  if (entries.length === 0) reject(ctx, ["results"], "no task results in the file");

  const splitOption = opts.split ?? null;
  const taskSplits = new Map<string, { split: Split; source: string }>();
  for (const { task } of entries) {
    if (groupNames.has(task)) continue;
    const fromConfig = splitOption ? null : splitFromConfig(ctx, configs, task);
    taskSplits.set(
      task,
      splitOption
        ? { split: splitOption, source: "option" }
        : (fromConfig ?? { split: "test", source: "default (the task config names no split)" }),
    );
  }
  const groupSplit = (group: string): { split: Split; source: string } => {
    if (splitOption) return { split: splitOption, source: "option" };
    const subs = groupSubtasks?.[group];
    const splits = Array.isArray(subs) ? [...new Set(subs.map((s) => (typeof s === "string" ? taskSplits.get(s)?.split : undefined)).filter((s): s is Split => !!s))] : [];
    if (splits.length === 1 && splits[0]) return { split: splits[0], source: `subtasks (${splits[0]})` };
    return { split: "test", source: "default (a group)" };
  };

  const scores: ParsedScore[] = [];
  const tasks: ParsedResultsFile["tasks"] = [];
  for (const { task, section, entry } of entries) {
    const { metrics } = readTaskEntry(ctx, section, task, entry, warnings);
    if (scores.length + metrics.length > LIMITS.resultsScores)
      reject(ctx, [section, task], `the file holds more than ${LIMITS.resultsScores} scores (task × metric × filter), the limit per file; split the evaluation into several runs`);
    const isGroup = groupNames.has(task) || section === "groups";
    const chosen = isGroup ? groupSplit(task) : (taskSplits.get(task) ?? { split: "test" as Split, source: "default" });
    for (const m of metrics)
      scores.push({
        task,
        metric: m.metric,
        filter: m.filter,
        value: m.value,
        stderr: m.stderr,
        nShot: nShotOf(task),
        higherIsBetter: higherIsBetterOf(task, m.metric),
        isGroup,
        split: chosen.split,
        splitSource: chosen.source,
      });
    tasks.push({ task, split: chosen.split, splitSource: chosen.source, isGroup, metrics: metrics.length });
  }
  if (scores.length === 0) reject(ctx, ["results"], "no metric values in any task");

  const gitHash = typeof root.git_hash === "string" ? root.git_hash : null;
  const version = typeof root.lm_eval_version === "string" ? root.lm_eval_version : gitHash ? `git ${gitHash}` : null;
  const date = root.date;
  const evaluatedAt = typeof date === "number" && Number.isFinite(date) ? new Date(date * 1000).toISOString() : typeof date === "string" ? date : null;

  return {
    fileName,
    sourceHash: sourceHashOf(text),
    modelName,
    pretrained,
    modelArgs,
    lmEvalVersion: version,
    evaluatedAt,
    splitOption,
    scores,
    tasks,
    warnings,
  };
}
