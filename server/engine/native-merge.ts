// Promise wrapper around the addon's merge entry points. Arguments are
// validated here ("expected X for Y, got Z") so the addon only sees
// well-formed requests; AbortSignal maps to the engine's cancel flag.
import path from "node:path";
import { loadNative } from "./native";
import {
  MERGE_METHODS,
  ROW_SOURCE_BASE,
  ROW_SOURCE_ZEROS,
  type NativeInputTransforms,
  type NativeInspectResult,
  type NativeMergeRequest,
  type NativeMergeResult,
  type NativeProgress,
} from "./types";

export class EngineArgumentError extends TypeError {
  readonly code = "INVALID_ARGUMENT";
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `"${v}"`;
  return typeof v === "object" ? "an object" : `${typeof v} ${String(v)}`;
}

function expect(ok: boolean, what: string, field: string, got: unknown): void {
  if (!ok) throw new EngineArgumentError(`expected ${what} for ${field}, got ${describe(got)}`);
}

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

const index = (v: unknown, min = 0): v is number => Number.isSafeInteger(v) && (v as number) >= min;

function validateTransforms(tx: NativeInputTransforms | undefined, field: string): void {
  if (tx === undefined) return;
  expect(typeof tx === "object" && tx !== null, "an object", field, tx);
  const { lora, embedRows } = tx;
  expect(lora === null || (typeof lora === "object" && typeof lora.adapterPath === "string" && path.isAbsolute(lora.adapterPath)), "null or {adapterPath (absolute), targets}", `${field}.lora`, lora);
  if (lora) {
    expect(Array.isArray(lora.targets), "an array", `${field}.lora.targets`, lora.targets);
    lora.targets.forEach((t, i) => {
      const at = `${field}.lora.targets[${i}]`;
      expect(typeof t === "object" && t !== null && [t.tensor, t.a, t.b].every((x) => typeof x === "string" && x !== ""), "{tensor, a, b} names", at, t);
      expect(finite(t.scale), "a finite number", `${at}.scale`, t.scale);
      expect(typeof t.transpose === "boolean", "a boolean", `${at}.transpose`, t.transpose);
    });
  }
  expect(embedRows === null || (typeof embedRows === "object" && index(embedRows.rows, 1)), "null or {rows >= 1, runs, averages, padFrom}", `${field}.embedRows`, embedRows);
  if (embedRows) {
    const at = `${field}.embedRows`;
    expect(Array.isArray(embedRows.runs) && embedRows.runs.length % 4 === 0, "an array of [outRow, count, src, srcRow] quadruples", `${at}.runs`, embedRows.runs);
    embedRows.runs.forEach((v, i) => expect(index(v, i % 4 === 2 ? ROW_SOURCE_ZEROS : 0), "integers (src >= -2, others >= 0)", `${at}.runs[${i}]`, v));
    expect(Array.isArray(embedRows.averages), "an array", `${at}.averages`, embedRows.averages);
    embedRows.averages.forEach((a, i) => {
      expect(index(a?.row) && Array.isArray(a.sources) && a.sources.length >= 2 && a.sources.length % 2 === 0, "{row, sources: [src, row]...}", `${at}.averages[${i}]`, a);
      a.sources.forEach((v, j) => expect(index(v, j % 2 === 0 ? ROW_SOURCE_BASE : 0), "model indices >= -1 and rows >= 0", `${at}.averages[${i}].sources[${j}]`, v));
    });
    expect(embedRows.padFrom === null || index(embedRows.padFrom, 1), "null or an integer >= 1", `${at}.padFrom`, embedRows.padFrom);
  }
}

export function validateNativeRequest(r: NativeMergeRequest): void {
  expect(typeof r === "object" && r !== null, "an object", "request", r);
  expect((MERGE_METHODS as readonly string[]).includes(r.method), MERGE_METHODS.join("|"), "method", r.method);
  expect(r.consensus === "sum" || r.consensus === "count", "sum|count", "consensus", r.consensus);
  expect(typeof r.normalize === "boolean", "a boolean", "normalize", r.normalize);
  expect(finite(r.lambda), "a finite number", "lambda", r.lambda);
  expect(["storage", "F32", "F16", "BF16"].includes(r.computeDtype), "storage|F32|F16|BF16", "computeDtype", r.computeDtype);
  expect(r.outDtype === null || ["F32", "F16", "BF16"].includes(r.outDtype), "null or F32|F16|BF16", "outDtype", r.outDtype);
  expect(finite(r.slack) && r.slack >= 0 && r.slack <= 1, "a number in [0, 1]", "slack", r.slack);
  expect(r.slackScope === "model" || r.slackScope === "tensor", "model|tensor", "slackScope", r.slackScope);
  expect(typeof r.rescale === "boolean", "a boolean", "rescale", r.rescale);
  expect(Number.isSafeInteger(r.seed) && r.seed >= 0, "an integer in [0, 2^53)", "seed", r.seed);
  expect(typeof r.keepIfNoOutliers === "boolean", "a boolean", "keepIfNoOutliers", r.keepIfNoOutliers);
  expect(finite(r.t) && r.t >= 0 && r.t <= 1, "a number in [0, 1]", "t", r.t);
  expect(typeof r.filterWise === "boolean", "a boolean", "filterWise", r.filterWise);
  expect(
    r.densities === null || (Array.isArray(r.densities) && r.densities.length > 0 && r.densities.every((d) => finite(d) && d >= 0 && d <= 1)),
    "null or a non-empty array of numbers in [0, 1]",
    "densities",
    r.densities,
  );
  expect(r.basePath === null || (typeof r.basePath === "string" && path.isAbsolute(r.basePath)), "null or an absolute path", "basePath", r.basePath);
  expect(r.basePath !== null || r.method === "linear", "a base model path (only linear works without one)", "basePath", r.basePath);
  expect(Array.isArray(r.models) && r.models.length > 0, "a non-empty array", "models", r.models);
  r.models.forEach((m, i) => {
    expect(typeof m.path === "string" && path.isAbsolute(m.path), "an absolute path", `models[${i}].path`, m.path);
    expect(finite(m.weight), "a finite number", `models[${i}].weight`, m.weight);
    expect(finite(m.density) && m.density >= 0, "a number >= 0", `models[${i}].density`, m.density);
    expect(typeof m.favored === "boolean", "a boolean", `models[${i}].favored`, m.favored);
    expect(finite(m.gamma) && m.gamma >= 0 && m.gamma <= 1, "a number in [0, 1]", `models[${i}].gamma`, m.gamma);
    validateTransforms(m.transforms, `models[${i}].transforms`);
  });
  validateTransforms(r.baseTransforms, "baseTransforms");
  expect(r.outDir === null || (typeof r.outDir === "string" && path.isAbsolute(r.outDir)), "null or an absolute path", "outDir", r.outDir);
  expect(Number.isSafeInteger(r.shardSizeBytes) && r.shardSizeBytes > 0, "a positive integer", "shardSizeBytes", r.shardSizeBytes);
  expect(Number.isInteger(r.threads) && r.threads >= 0 && r.threads <= 1024, "an integer in [0, 1024]", "threads", r.threads);
}

export interface NativeRunOptions {
  onProgress?: (p: NativeProgress) => void;
  signal?: AbortSignal;
}

/** Runs a merge (outDir set) or an analysis (outDir null) on the engine's threads. */
export async function runNativeMerge(request: NativeMergeRequest, opts: NativeRunOptions = {}): Promise<NativeMergeResult> {
  validateNativeRequest(request);
  if (opts.signal?.aborted) {
    throw Object.assign(new Error("merge cancelled before it started"), { code: "CANCELLED" });
  }
  const handle = loadNative().startMerge(request, opts.onProgress);
  const onAbort = () => handle.cancel();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    return await handle.promise;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

/** Reads a model's headers (tensors, dtypes, shapes, parameter count). */
export function inspectModel(modelPath: string): NativeInspectResult {
  expect(typeof modelPath === "string" && modelPath.length > 0, "a path string", "path", modelPath);
  return loadNative().inspectModel(path.resolve(modelPath));
}
