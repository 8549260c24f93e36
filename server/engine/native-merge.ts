// Promise wrapper around the addon's merge entry points. Arguments are
// validated here ("expected X for Y, got Z") so the addon only sees
// well-formed requests; AbortSignal maps to the engine's cancel flag.
import path from "node:path";
import { loadNative } from "./native";
import { BASE_OPTIONAL_METHODS, MERGE_METHODS, NEWER_METHOD_DEFAULTS, type NativeInspectResult, type NativeMergeRequest, type NativeMergeResult, type NativeProgress } from "./types";

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
  expect(r.basePath === null || (typeof r.basePath === "string" && path.isAbsolute(r.basePath)), "null or an absolute path", "basePath", r.basePath);
  expect(r.basePath !== null || BASE_OPTIONAL_METHODS.includes(r.method), `a base model path (only ${BASE_OPTIONAL_METHODS.join(", ")} work without one)`, "basePath", r.basePath);
  expect(Array.isArray(r.models) && r.models.length > 0, "a non-empty array", "models", r.models);
  r.models.forEach((m, i) => {
    expect(typeof m.path === "string" && path.isAbsolute(m.path), "an absolute path", `models[${i}].path`, m.path);
    expect(finite(m.weight), "a finite number", `models[${i}].weight`, m.weight);
    expect(finite(m.density) && m.density >= 0, "a number >= 0", `models[${i}].density`, m.density);
    expect(typeof m.favored === "boolean", "a boolean", `models[${i}].favored`, m.favored);
    expect(finite(m.gamma) && m.gamma >= 0 && m.gamma <= 1, "a number in [0, 1]", `models[${i}].gamma`, m.gamma);
  });
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

/** Reads a model's headers (tensors, dtypes, shapes, parameter count). */
export function inspectModel(modelPath: string): NativeInspectResult {
  expect(typeof modelPath === "string" && modelPath.length > 0, "a path string", "path", modelPath);
  return loadNative().inspectModel(path.resolve(modelPath));
}
