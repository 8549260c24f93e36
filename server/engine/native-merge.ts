// Promise wrapper around the addon's merge entry points. Arguments are
// validated here ("expected X for Y, got Z") so the addon only sees
// well-formed requests; AbortSignal maps to the engine's cancel flag.
import path from "node:path";
import { normalizePath } from "../paths/normalize";
import { loadNative } from "./native";
import {
  BASE_OPTIONAL_METHODS,
  MERGE_METHODS,
  NEWER_METHOD_DEFAULTS,
  RANDOM_STREAMS,
  ROW_SOURCE_BASE,
  ROW_SOURCE_ZEROS,
  TIE_ORDERS,
  type NativeInputTransforms,
  type NativeInspectResult,
  type NativeMergeRequest,
  type NativeMergeResult,
  type NativePlan,
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

/** A model path as server/paths normalizes it: the engine opens exactly the string that was checked. */
function isNormalizedPath(p: unknown): p is string {
  try {
    return typeof p === "string" && normalizePath(p) === p;
  } catch {
    return false;
  }
}

/** The request with every optional field set (the addon requires all of them). */
export function completeNativeRequest(r: NativeMergeRequest): Required<NativeMergeRequest> {
  return { ...NEWER_METHOD_DEFAULTS, ...r } as Required<NativeMergeRequest>;
}

export function validateNativeRequest(request: NativeMergeRequest): void {
  expect(typeof request === "object" && request !== null, "an object", "request", request);
  const r = completeNativeRequest(request);
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
  expect(RANDOM_STREAMS.includes(r.randomStream), RANDOM_STREAMS.join("|"), "randomStream", r.randomStream);
  expect(TIE_ORDERS.includes(r.tieOrder), TIE_ORDERS.join("|"), "tieOrder", r.tieOrder);
  expect(typeof r.keepIfNoOutliers === "boolean", "a boolean", "keepIfNoOutliers", r.keepIfNoOutliers);
  expect(finite(r.t) && r.t >= 0 && r.t <= 1, "a number in [0, 1]", "t", r.t);
  expect(typeof r.filterWise === "boolean", "a boolean", "filterWise", r.filterWise);
  expect(finite(r.selectTopk), "a finite number", "selectTopk", r.selectTopk);
  expect(typeof r.nuslerpFlatten === "boolean", "a boolean", "nuslerpFlatten", r.nuslerpFlatten);
  expect(typeof r.nuslerpRowWise === "boolean", "a boolean", "nuslerpRowWise", r.nuslerpRowWise);
  expect(typeof r.normalizeWeights === "boolean", "a boolean", "normalizeWeights", r.normalizeWeights);
  expect(finite(r.eps) && r.eps >= 0, "a number >= 0", "eps", r.eps);
  expect(Number.isInteger(r.maxIter) && r.maxIter >= 0 && r.maxIter <= 100_000, "an integer in [0, 100000]", "maxIter", r.maxIter);
  expect(finite(r.tol) && r.tol >= 0, "a number >= 0", "tol", r.tol);
  expect(
    r.densities === null || (Array.isArray(r.densities) && r.densities.length > 0 && r.densities.every((d) => finite(d) && d >= 0 && d <= 1)),
    "null or a non-empty array of numbers in [0, 1]",
    "densities",
    r.densities,
  );
  expect(r.series === undefined || typeof r.series === "boolean", "a boolean or absent", "series", r.series);
  if (r.series) {
    expect(r.densities !== null, "a density list (a series pass is a density sweep per checkpoint)", "densities", r.densities);
    expect(r.method === "ties", "ties (the series pass runs the ties density sweep)", "method", r.method);
    expect(Array.isArray(r.models) && r.models.length >= 2, "the SFT model and at least one CT checkpoint", "models", r.models);
    expect(r.outDir === null, "null (a series pass writes no model)", "outDir", r.outDir);
  }
  expect(r.basePath === null || isNormalizedPath(r.basePath), "null or a normalized absolute path (server/paths)", "basePath", r.basePath);
  expect(r.basePath !== null || BASE_OPTIONAL_METHODS.includes(r.method), `a base model path (only ${BASE_OPTIONAL_METHODS.join(", ")} work without one)`, "basePath", r.basePath);
  expect(Array.isArray(r.models) && r.models.length > 0, "a non-empty array", "models", r.models);
  r.models.forEach((m, i) => {
    expect(isNormalizedPath(m.path), "a normalized absolute path (server/paths)", `models[${i}].path`, m.path);
    validateModelParams(m, `models[${i}]`);
    validateTransforms(m.transforms, `models[${i}].transforms`);
  });
  validateTransforms(r.baseTransforms, "baseTransforms");
  if (r.plan !== undefined && r.plan !== null) validatePlan(r.plan, r.models.length);
  expect(r.outDir === null || (typeof r.outDir === "string" && path.isAbsolute(r.outDir)), "null or an absolute path", "outDir", r.outDir);
  expect(Number.isSafeInteger(r.shardSizeBytes) && r.shardSizeBytes > 0, "a positive integer", "shardSizeBytes", r.shardSizeBytes);
  expect(Number.isInteger(r.threads) && r.threads >= 0 && r.threads <= 1024, "an integer in [0, 1024]", "threads", r.threads);
  expect(
    r.allowedRoots === undefined || r.allowedRoots === null || (Array.isArray(r.allowedRoots) && r.allowedRoots.every((x) => typeof x === "string" && path.isAbsolute(x))),
    "null or an array of absolute folder paths",
    "allowedRoots",
    r.allowedRoots,
  );
}

function validateModelParams(m: { weight: number; density: number; favored: boolean; gamma: number; epsilon: number; scale?: number | null }, where: string): void {
  expect(finite(m.weight), "a finite number", `${where}.weight`, m.weight);
  expect(finite(m.density) && m.density >= 0, "a number >= 0", `${where}.density`, m.density);
  expect(typeof m.favored === "boolean", "a boolean", `${where}.favored`, m.favored);
  expect(finite(m.gamma) && m.gamma >= 0 && m.gamma <= 1, "a number in [0, 1]", `${where}.gamma`, m.gamma);
  expect(finite(m.epsilon) && m.epsilon >= 0 && m.epsilon <= 1, "a number in [0, 1]", `${where}.epsilon`, m.epsilon);
  expect(m.scale === undefined || m.scale === null || finite(m.scale), "null or a finite number", `${where}.scale`, m.scale);
}

function validatePlan(plan: NativePlan, nModels: number): void {
  expect(typeof plan === "object" && Array.isArray(plan.sources) && plan.sources.length > 0, "an object with a non-empty sources array", "plan", plan);
  plan.sources.forEach((p, i) => expect(isNormalizedPath(p), "a normalized absolute path (server/paths)", `plan.sources[${i}]`, p));
  expect(Array.isArray(plan.tensors) && plan.tensors.length > 0, "a non-empty array", "plan.tensors", plan.tensors);
  const ref = (x: { source: number; tensor: string }, where: string) => {
    expect(Number.isInteger(x.source) && x.source >= 0 && x.source < plan.sources.length, `an integer in [0, ${plan.sources.length})`, `${where}.source`, x.source);
    expect(typeof x.tensor === "string" && x.tensor !== "", "a tensor name", `${where}.tensor`, x.tensor);
  };
  plan.tensors.forEach((t, i) => {
    const where = `plan.tensors[${i}]`;
    expect(typeof t.name === "string" && t.name !== "", "a tensor name", `${where}.name`, t.name);
    if (t.base !== null) ref(t.base, `${where}.base`);
    expect(Array.isArray(t.inputs) && t.inputs.length > 0, "a non-empty array", `${where}.inputs`, t.inputs);
    t.inputs.forEach((x, j) => {
      ref(x, `${where}.inputs[${j}]`);
      validateModelParams(x, `${where}.inputs[${j}]`);
      expect(Number.isInteger(x.slot) && x.slot >= 0 && x.slot < nModels, `an integer in [0, ${nModels})`, `${where}.inputs[${j}].slot`, x.slot);
    });
    expect(finite(t.lambda), "a finite number", `${where}.lambda`, t.lambda);
    expect(finite(t.t), "a finite number", `${where}.t`, t.t);
  });
}

export interface NativeRunOptions {
  onProgress?: (p: NativeProgress) => void;
  signal?: AbortSignal;
}

/** Runs a merge (outDir set) or an analysis (outDir null) on the engine's threads. */
export async function runNativeMerge(request: NativeMergeRequest, opts: NativeRunOptions = {}): Promise<NativeMergeResult> {
  validateNativeRequest(request);
  request = completeNativeRequest(request);
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

/**
 * Reads a model's headers (tensors, dtypes, shapes, parameter count). With allowedRoots, the
 * engine opens only files inside them (the model path and every index/shard file, checked on
 * the opened descriptor): PATH_NOT_ALLOWED otherwise.
 */
export function inspectModel(modelPath: string, opts: { allowedRoots?: readonly string[] | null } = {}): NativeInspectResult {
  expect(typeof modelPath === "string" && modelPath.length > 0, "a path string", "path", modelPath);
  return loadNative().inspectModel(normalizePath(modelPath, "model path"), opts.allowedRoots ? [...opts.allowedRoots] : null);
}
