// The builder's whole state, and its encoding in the URL's search params so a
// copied link reproduces the recipe and the sweep. Unknown or malformed values
// fall back to the defaults.
import type { BuilderSettings } from "@/server/services/builder/schemas";
import { DEFAULT_GAMMA, DEFAULT_T, DTYPES, METHODS, defaultNormalize, normalizeAfterSwitch, type Dtype, type Method } from "./methods";

export interface BuilderModelState {
  id: string;
  weight: number;
  density: number;
  /** breadcrumbs*: outlier fraction removed. */
  gamma: number;
  favored: boolean;
}

export interface BuilderState {
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
  /** dare* */
  seed: number;
  rescale: boolean;
  /** breadcrumbs* */
  keepIfNoOutliers: boolean;
  /** model_stock */
  filterWise: boolean;
  dtype: Dtype | null;
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
  return { id, weight: 1, density: 1, gamma: DEFAULT_GAMMA, favored: false };
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
  keepIfNoOutliers: false,
  filterWise: false,
  dtype: null,
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

export function parseBuilderState(p: URLSearchParams): BuilderState {
  const ids = list(p.get("m"));
  const weights = (p.get("w") ?? "").split(",");
  const densities = (p.get("d") ?? "").split(",");
  const gammas = (p.get("g") ?? "").split(",");
  const fav = num(p.get("fav"), -1);
  const method = p.get("method") ?? "";
  const dtype = p.get("dtype") ?? "";
  const smeth = list(p.get("smeth")).filter(isMethod);
  const sd = p.get("sd");
  const m = isMethod(method) ? method : DEFAULT_STATE.method;
  const norm = p.get("norm");
  const seed = num(p.get("seed"), 0, 0, Number.MAX_SAFE_INTEGER);
  return {
    exp: p.get("exp") || null,
    method: m,
    base: p.get("base") || null,
    models: ids.map((id, i) => ({
      id,
      weight: num(weights[i], 1),
      density: num(densities[i], 1, 0, 1),
      gamma: num(gammas[i], DEFAULT_GAMMA, 0, 1),
      favored: i === fav,
    })),
    lambda: num(p.get("lambda"), 1),
    normalize: norm === "0" ? false : norm === "1" ? true : defaultNormalize(m),
    consensus: p.get("cons") === "count" ? "count" : "sum",
    slack: num(p.get("slack"), 0.04, 0, 1),
    scope: p.get("scope") === "tensor" ? "tensor" : "model",
    t: num(p.get("t"), DEFAULT_T, 0, 1),
    seed: Number.isInteger(seed) ? seed : 0,
    rescale: p.get("rescale") !== "0",
    keepIfNoOutliers: p.get("kino") === "1",
    filterWise: p.get("fw") === "1",
    dtype: (DTYPES as readonly string[]).includes(dtype) ? (dtype as Dtype) : null,
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
  if (s.keepIfNoOutliers) p.set("kino", "1");
  if (s.filterWise) p.set("fw", "1");
  if (s.dtype) p.set("dtype", s.dtype);
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
 * first, SFT, one unless chosen). Other values are kept for switching back.
 */
export function switchMethod(s: BuilderState, method: Method): BuilderState {
  return {
    ...s,
    method,
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
    models: s.models.map((m) => ({ modelId: m.id, weight: m.weight, density: m.density, gamma: m.gamma, favored: m.favored })),
    lambda: s.lambda,
    normalize: s.normalize,
    consensus: s.consensus,
    slack: s.slack,
    slackScope: s.scope,
    t: s.t,
    seed: s.seed,
    rescale: s.rescale,
    keepIfNoOutliers: s.keepIfNoOutliers,
    filterWise: s.filterWise,
    dtype: s.dtype,
    tokenizerSource: s.tok,
  };
}

/** A parsed recipe (pasted YAML) back into the builder; the sweep settings start over. */
export function fromSettings(x: BuilderSettings, previous: BuilderState): BuilderState {
  return {
    ...previous,
    exp: x.experimentId,
    method: x.method,
    base: x.baseModelId,
    models: x.models.map((m) => ({ id: m.modelId, weight: m.weight, density: m.density, gamma: m.gamma, favored: m.favored })),
    lambda: x.lambda,
    normalize: x.normalize,
    consensus: x.consensus,
    slack: x.slack,
    scope: x.slackScope,
    t: x.t,
    seed: x.seed,
    rescale: x.rescale,
    keepIfNoOutliers: x.keepIfNoOutliers,
    filterWise: x.filterWise,
    dtype: x.dtype,
    tok: x.tokenizerSource,
    sweepCts: null,
    sweepMethods: null,
    sweepDensities: null,
  };
}
