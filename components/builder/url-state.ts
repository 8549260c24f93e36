// The builder's whole state, and its encoding in the URL's search params so a
// copied link reproduces the recipe and the sweep. Unknown or malformed values
// fall back to the defaults.
import { z } from "zod";
import type { NewerMethodValues } from "@/server/engine/recipe/newer-methods";
import { NEWER_METHOD_DEFAULTS } from "@/server/engine/types";
import { builderSliceSchema, paramSpecsSchema, type BuilderParamSpecs, type BuilderSettings, type BuilderSlice } from "@/server/services/builder/schemas";
import { DEFAULT_EPSILON, DEFAULT_GAMMA, DEFAULT_T, DTYPES, METHODS, NEARSWAP_SUGGESTED_T, defaultNormalize, normalizeAfterSwitch, type Dtype, type Method } from "./methods";

export interface BuilderModelState {
  id: string;
  weight: number;
  density: number;
  /** breadcrumbs*: outlier fraction removed. */
  gamma: number;
  /** della*: keep probabilities span density -+ epsilon. */
  epsilon: number;
  favored: boolean;
  /** passthrough */
  scale?: number;
  /** Per-layer values (gradients, filter lists) of this model. */
  parameters?: BuilderParamSpecs;
}

/** sce, nuslerp, multislerp, karcher: NewerMethodValues (mergekit's names in camel case). */
export interface BuilderState extends NewerMethodValues {
  exp: string | null;
  method: Method;
  base: string | null;
  models: BuilderModelState[];
  lambda: number;
  /** Defaults per method (mergekit: true for linear, ties, ties_sv). */
  normalize: boolean;
  consensus: "sum" | "count";
  slack: number;
  scope: "model" | "tensor";
  /** slerp */
  t: number;
  /** dare*, della* */
  seed: number;
  rescale: boolean;
  /** dare*: "counter" or mergekit's stream */
  randomStream: "counter" | "mergekit";
  /** magnitude-ranking methods */
  tieOrder: "mergekit" | "index";
  /** breadcrumbs* */
  keepIfNoOutliers: boolean;
  /** model_stock */
  filterWise: boolean;
  dtype: Dtype | null;
  /** Top-level per-layer values (lambda / t gradients, per-model fallbacks). */
  parameters?: BuilderParamSpecs;
  /** mergekit slices (layer swap); the models then only label the recipe. */
  slices?: BuilderSlice[];
  /** Layers of the models: per-layer curves and the layer swap helper (not part of the recipe). */
  layers: number;
  /** tokenizer_source: null copies the base's tokenizer. */
  tok: "base" | "union" | null;
  sweepType: "merge" | "analyze";
  /** null: every CT checkpoint of the experiment. */
  sweepCts: string[] | null;
  /** null: the recipe's method. */
  sweepMethods: Method[] | null;
  /** Per model; null: each model's own density. */
  sweepDensities: number[][] | null;
}

/** A model added to the recipe, with every parameter at its default. */
export function newModelEntry(id: string): BuilderModelState {
  return { id, weight: 1, density: 1, gamma: DEFAULT_GAMMA, epsilon: DEFAULT_EPSILON, favored: false };
}

export const DEFAULT_STATE: BuilderState = {
  exp: null,
  method: "ties",
  base: null,
  models: [],
  lambda: 1,
  normalize: true,
  consensus: "sum",
  slack: 0.04,
  scope: "model",
  t: DEFAULT_T,
  seed: 0,
  rescale: true,
  randomStream: "counter",
  tieOrder: "mergekit",
  keepIfNoOutliers: false,
  filterWise: false,
  ...NEWER_METHOD_DEFAULTS,
  dtype: null,
  layers: 32,
  tok: null,
  sweepType: "merge",
  sweepCts: null,
  sweepMethods: null,
  sweepDensities: null,
};

const num = (s: string | null | undefined, fallback: number, min = -Infinity, max = Infinity): number => {
  if (s === null || s === undefined || s.trim() === "") return fallback;
  const n = Number(s);
  return Number.isFinite(n) && n >= min && n <= max ? n : fallback;
};
const list = (s: string | null): string[] => (s ? s.split(",").filter((x) => x !== "") : []);
const isMethod = (s: string): s is Method => (METHODS as readonly string[]).includes(s);

/** The `lay` search param: per-layer values and slices as JSON (absent when none). */
const layeredSchema = z.object({
  m: z.array(paramSpecsSchema.nullable()).optional(),
  sc: z.array(z.number().finite().nullable()).optional(),
  g: paramSpecsSchema.optional(),
  s: z.array(builderSliceSchema).min(1).optional(),
});
type Layered = z.infer<typeof layeredSchema>;

function parseLayered(raw: string | null): Layered {
  if (!raw) return {};
  try {
    const r = layeredSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : {};
  } catch {
    return {};
  }
}

export function parseBuilderState(p: URLSearchParams): BuilderState {
  const ids = list(p.get("m"));
  const weights = (p.get("w") ?? "").split(",");
  const densities = (p.get("d") ?? "").split(",");
  const gammas = (p.get("g") ?? "").split(",");
  const epsilons = (p.get("e") ?? "").split(",");
  const fav = num(p.get("fav"), -1);
  const method = p.get("method") ?? "";
  const dtype = p.get("dtype") ?? "";
  const smeth = list(p.get("smeth")).filter(isMethod);
  const sd = p.get("sd");
  const m = isMethod(method) ? method : DEFAULT_STATE.method;
  const norm = p.get("norm");
  const seed = num(p.get("seed"), 0, 0, Number.MAX_SAFE_INTEGER);
  const lay = parseLayered(p.get("lay"));
  const maxIter = num(p.get("miter"), NEWER_METHOD_DEFAULTS.maxIter, 0, 100_000);
  return {
    exp: p.get("exp") || null,
    method: m,
    base: p.get("base") || null,
    models: ids.map((id, i) => ({
      id,
      weight: num(weights[i], 1),
      density: num(densities[i], 1, 0, 1),
      gamma: num(gammas[i], DEFAULT_GAMMA, 0, 1),
      epsilon: num(epsilons[i], DEFAULT_EPSILON, 0, 1),
      favored: i === fav,
      ...(typeof lay.sc?.[i] === "number" ? { scale: lay.sc[i]! } : {}),
      ...(lay.m?.[i] ? { parameters: lay.m[i]! } : {}),
    })),
    lambda: num(p.get("lambda"), 1),
    normalize: norm === "0" ? false : norm === "1" ? true : defaultNormalize(m),
    consensus: p.get("cons") === "count" ? "count" : "sum",
    slack: num(p.get("slack"), 0.04, 0, 1),
    scope: p.get("scope") === "tensor" ? "tensor" : "model",
    t: num(p.get("t"), DEFAULT_T, 0, 1),
    seed: Number.isInteger(seed) ? seed : 0,
    rescale: p.get("rescale") !== "0",
    randomStream: p.get("rnd") === "mergekit" ? "mergekit" : "counter",
    tieOrder: p.get("tie") === "index" ? "index" : "mergekit",
    keepIfNoOutliers: p.get("kino") === "1",
    filterWise: p.get("fw") === "1",
    selectTopk: num(p.get("topk"), NEWER_METHOD_DEFAULTS.selectTopk, 0, 1),
    nuslerpFlatten: p.get("nflat") !== "0",
    nuslerpRowWise: p.get("nrow") === "1",
    normalizeWeights: p.get("nw") !== "0",
    eps: num(p.get("eps"), NEWER_METHOD_DEFAULTS.eps, 0, 1),
    maxIter: Number.isInteger(maxIter) ? maxIter : NEWER_METHOD_DEFAULTS.maxIter,
    tol: num(p.get("tol"), NEWER_METHOD_DEFAULTS.tol, 0, 1),
    dtype: (DTYPES as readonly string[]).includes(dtype) ? (dtype as Dtype) : null,
    ...(lay.g ? { parameters: lay.g } : {}),
    ...(lay.s ? { slices: lay.s } : {}),
    layers: num(p.get("nl"), DEFAULT_STATE.layers, 1, 1024),
    tok: p.get("tok") === "base" ? "base" : p.get("tok") === "union" ? "union" : null,
    sweepType: p.get("stype") === "analyze" ? "analyze" : "merge",
    sweepCts: p.has("sct") ? list(p.get("sct")) : null,
    sweepMethods: smeth.length > 0 ? smeth : null,
    sweepDensities: sd
      ? sd.split(";").map((g) => g.split(",").map((x) => num(x, NaN, 0, 1)).filter((x) => !Number.isNaN(x)))
      : null,
  };
}

export function serializeBuilderState(s: BuilderState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.exp) p.set("exp", s.exp);
  p.set("method", s.method);
  if (s.base) p.set("base", s.base);
  if (s.models.length > 0) {
    p.set("m", s.models.map((m) => m.id).join(","));
    p.set("w", s.models.map((m) => m.weight).join(","));
    p.set("d", s.models.map((m) => m.density).join(","));
    if (s.models.some((m) => m.gamma !== DEFAULT_GAMMA)) p.set("g", s.models.map((m) => m.gamma).join(","));
    if (s.models.some((m) => m.epsilon !== DEFAULT_EPSILON)) p.set("e", s.models.map((m) => m.epsilon).join(","));
    const fav = s.models.findIndex((m) => m.favored);
    if (fav >= 0) p.set("fav", String(fav));
  }
  if (s.lambda !== 1) p.set("lambda", String(s.lambda));
  if (s.normalize !== defaultNormalize(s.method)) p.set("norm", s.normalize ? "1" : "0");
  if (s.consensus !== "sum") p.set("cons", s.consensus);
  if (s.slack !== 0.04) p.set("slack", String(s.slack));
  if (s.scope !== "model") p.set("scope", s.scope);
  if (s.t !== DEFAULT_T) p.set("t", String(s.t));
  if (s.seed !== 0) p.set("seed", String(s.seed));
  if (!s.rescale) p.set("rescale", "0");
  if (s.randomStream !== "counter") p.set("rnd", s.randomStream);
  if (s.tieOrder !== "mergekit") p.set("tie", s.tieOrder);
  if (s.keepIfNoOutliers) p.set("kino", "1");
  if (s.filterWise) p.set("fw", "1");
  if (s.selectTopk !== NEWER_METHOD_DEFAULTS.selectTopk) p.set("topk", String(s.selectTopk));
  if (!s.nuslerpFlatten) p.set("nflat", "0");
  if (s.nuslerpRowWise) p.set("nrow", "1");
  if (!s.normalizeWeights) p.set("nw", "0");
  if (s.eps !== NEWER_METHOD_DEFAULTS.eps) p.set("eps", String(s.eps));
  if (s.maxIter !== NEWER_METHOD_DEFAULTS.maxIter) p.set("miter", String(s.maxIter));
  if (s.tol !== NEWER_METHOD_DEFAULTS.tol) p.set("tol", String(s.tol));
  if (s.dtype) p.set("dtype", s.dtype);
  const lay: Layered = {};
  if (s.models.some((m) => m.parameters)) lay.m = s.models.map((m) => m.parameters ?? null);
  if (s.models.some((m) => m.scale !== undefined)) lay.sc = s.models.map((m) => m.scale ?? null);
  if (s.parameters) lay.g = s.parameters;
  if (s.slices) lay.s = s.slices;
  if (Object.keys(lay).length > 0) p.set("lay", JSON.stringify(lay));
  if (s.layers !== DEFAULT_STATE.layers) p.set("nl", String(s.layers));
  if (s.tok) p.set("tok", s.tok);
  if (s.sweepType !== "merge") p.set("stype", s.sweepType);
  if (s.sweepCts) p.set("sct", s.sweepCts.join(","));
  if (s.sweepMethods) p.set("smeth", s.sweepMethods.join(","));
  if (s.sweepDensities) p.set("sd", s.sweepDensities.map((d) => d.join(",")).join(";"));
  return p;
}

/**
 * The form after picking another method: `normalize` follows the method's
 * default unless the user changed it, and TIES-SV gets its favored model (the
 * first, SFT, one unless chosen). `t` moves between slerp's default and
 * nearswap's suggestion unless the user changed it. Other values are kept for
 * switching back.
 */
export function switchMethod(s: BuilderState, method: Method): BuilderState {
  let t = s.t;
  if (method === "nearswap" && t === DEFAULT_T) t = NEARSWAP_SUGGESTED_T;
  else if (method !== "nearswap" && s.method === "nearswap" && t === NEARSWAP_SUGGESTED_T) t = DEFAULT_T;
  return {
    ...s,
    method,
    t,
    normalize: normalizeAfterSwitch(s.method, method, s.normalize),
    models: method === "ties_sv" && !s.models.some((m) => m.favored) ? s.models.map((m, i) => ({ ...m, favored: i === 0 })) : s.models,
  };
}

/** What builder.preview needs, or null while no model is picked. */
export function toSettings(s: BuilderState): BuilderSettings | null {
  if (s.models.length === 0) return null;
  return {
    experimentId: s.exp,
    method: s.method,
    baseModelId: s.base,
    models: s.models.map((m) => ({
      modelId: m.id,
      weight: m.weight,
      density: m.density,
      gamma: m.gamma,
      epsilon: m.epsilon,
      favored: m.favored,
      ...(m.scale !== undefined ? { scale: m.scale } : {}),
      ...(m.parameters ? { parameters: m.parameters } : {}),
    })),
    lambda: s.lambda,
    normalize: s.normalize,
    consensus: s.consensus,
    slack: s.slack,
    slackScope: s.scope,
    t: s.t,
    seed: s.seed,
    rescale: s.rescale,
    randomStream: s.randomStream,
    tieOrder: s.tieOrder,
    keepIfNoOutliers: s.keepIfNoOutliers,
    filterWise: s.filterWise,
    selectTopk: s.selectTopk,
    nuslerpFlatten: s.nuslerpFlatten,
    nuslerpRowWise: s.nuslerpRowWise,
    normalizeWeights: s.normalizeWeights,
    eps: s.eps,
    maxIter: s.maxIter,
    tol: s.tol,
    dtype: s.dtype,
    ...(s.parameters ? { parameters: s.parameters } : {}),
    ...(s.slices ? { slices: s.slices } : {}),
    tokenizerSource: s.tok,
  };
}

/** A parsed recipe (pasted YAML) back into the builder; the sweep settings start over. */
export function fromSettings(x: BuilderSettings, previous: BuilderState): BuilderState {
  const { parameters: _parameters, slices: _slices, ...kept } = previous;
  return {
    ...kept,
    exp: x.experimentId,
    method: x.method,
    base: x.baseModelId,
    models: x.models.map((m) => ({
      id: m.modelId,
      weight: m.weight,
      density: m.density,
      gamma: m.gamma,
      epsilon: m.epsilon,
      favored: m.favored,
      ...(m.scale !== undefined ? { scale: m.scale } : {}),
      ...(m.parameters ? { parameters: m.parameters } : {}),
    })),
    lambda: x.lambda,
    normalize: x.normalize,
    consensus: x.consensus,
    slack: x.slack,
    scope: x.slackScope,
    t: x.t,
    seed: x.seed,
    rescale: x.rescale,
    randomStream: x.randomStream,
    tieOrder: x.tieOrder,
    keepIfNoOutliers: x.keepIfNoOutliers,
    filterWise: x.filterWise,
    selectTopk: x.selectTopk,
    nuslerpFlatten: x.nuslerpFlatten,
    nuslerpRowWise: x.nuslerpRowWise,
    normalizeWeights: x.normalizeWeights,
    eps: x.eps,
    maxIter: x.maxIter,
    tol: x.tol,
    dtype: x.dtype,
    ...(x.parameters ? { parameters: x.parameters } : {}),
    ...(x.slices ? { slices: x.slices } : {}),
    tok: x.tokenizerSource,
    sweepCts: null,
    sweepMethods: null,
    sweepDensities: null,
  };
}
