// The merge statistics report (CLI --stats, `analyze --json`, the UI): the engine's per-tensor
// counts, tagged with layer/module, plus sums over the model, per layer and per module.
// Field names are snake_case and stable: they are part of the product's JSON format.
import { RANDOM_METHODS, RANKING_METHODS } from "../recipe/types";
import type { MergeMethod, NativeMergeResult, NativeModelTensorStats, NativePlan, NativeTensorStats, RandomStream, StorageDtype, TieOrder } from "../types";
import type { TokenizerReport } from "../tokenizer";
import { addGeometry, geometryOf, type Geometry } from "./geometry";
import { marginsOf, type MarginHistogram } from "./margins";
import { TENSOR_MODULES, tagTensor, type TensorModule } from "./tag-tensor";

/** Per-model counters; each array has one entry per model, in recipe order. */
export interface PerModelCounts {
  k: number[];
  nnz_trimmed: number[];
  discarded: number[];
  discarded_l1: number[];
  rescued: number[];
  conflicts_won: number[];
  in_conflict: number[];
  contributing: number[];
}

export const PER_MODEL_FIELDS = [
  "k",
  "nnz_trimmed",
  "discarded",
  "discarded_l1",
  "rescued",
  "conflicts_won",
  "in_conflict",
  "contributing",
] as const satisfies readonly (keyof PerModelCounts)[];

const FROM_NATIVE: Record<keyof PerModelCounts, keyof NativeModelTensorStats> = {
  k: "k",
  nnz_trimmed: "nnzTrimmed",
  discarded: "discarded",
  discarded_l1: "discardedL1",
  rescued: "rescued",
  conflicts_won: "conflictsWon",
  in_conflict: "inConflict",
  contributing: "contributing",
};

export interface TensorStatsEntry extends PerModelCounts {
  name: string;
  layer: number | null;
  module: TensorModule;
  numel: number;
  shape: number[];
  dtype: StorageDtype;
  /** Per model: the k-th largest |delta| (null when that model is not trimmed). */
  threshold: (number | null)[];
  /** Per model: entries equal to the threshold, and how many of them the cut kept (by the report's tie_order). */
  n_equal_to_threshold: number[];
  n_kept_at_threshold: number[];
  /** Per model, random trims drawn from mergekit's stream: position of the first draw (null otherwise). */
  random_first_draw: (number | null)[];
  sign_conflicts: number;
  n_positions_no_contributor: number;
  n_majority_negative: number;
  /** ties_sv: lost elections of the favored model (candidates) and how many were rescued. */
  sv_candidates: number;
  sv_reserved: number;
  /** An embedding of some model was cut to the base's rows. */
  row_cut: boolean;
  /** nearswap: positions taking the model's value (|base - model| <= t); arcee_fusion: positions kept by its importance mask; null for other methods. */
  selected: number | null;
  /** nuslerp: colinear vectors interpolated linearly. */
  fallback_vectors: number;
  /** karcher: iterations run. */
  iterations: number;
  /** Task-vector geometry (./geometry.ts); null when the method computes none or not every model is an input of this tensor. */
  geometry: Geometry | null;
  /** The parameter values this tensor was merged with (gradients and filters resolved). */
  parameters?: TensorParameters;
}

/** Effective parameters of one output tensor. */
export interface TensorParameters {
  /** Global values (lambda; slerp's t, else null). */
  lambda: number;
  t: number | null;
  /** Per model (recipe order); null when that model is not an input of this tensor (slices). */
  models: ({ input: string; weight: number; density: number; gamma: number; epsilon: number; scale: number | null } | null)[];
}

export interface StatsGroup extends PerModelCounts {
  tensors: number;
  numel: number;
  sign_conflicts: number;
  n_positions_no_contributor: number;
  n_majority_negative: number;
  sv_candidates: number;
  sv_reserved: number;
  /** Sum of the tensors' `selected` (nearswap, arcee_fusion; 0 otherwise). */
  selected: number;
  /** Task-vector geometry summed over the group's tensors that have one (null: none has). */
  geometry: Geometry | null;
}

export interface StatsReportModel {
  path: string;
  role?: string;
  weight: number;
  density: number;
  favored: boolean;
}

export interface StatsReport {
  method: MergeMethod;
  /** Which threshold ties the magnitude cuts kept (null: the method ranks nothing). */
  tie_order: TieOrder | null;
  /** The random draws' generator and seed (null: the method draws nothing). */
  random: { stream: RandomStream; seed: number } | null;
  models: StatsReportModel[];
  tensors: TensorStatsEntry[];
  totals: StatsGroup;
  /** Ascending layer; tensors outside the layers (embeddings, final norm, LM head) last, as layer null. */
  byLayer: (StatsGroup & { layer: number | null })[];
  /** In a fixed module order (embed, q, k, v, qkv, o, gate, up, gate_up, down, norm, lm_head, other); only modules present. */
  byModule: (StatsGroup & { module: TensorModule })[];
  warnings: string[];
  /** ties_sv with model scope: the number of favored entries that could be rescued (R). */
  slack_budget: number | null;
  /** ties_sv: the favored model's lost-election margins over the model, with the slack cut (./margins.ts); null otherwise. */
  margins: MarginHistogram | null;
  /** tokenizer_source / tokenizer merges: the output vocabulary and the embedding rows that could not be merged. */
  tokenizer?: TokenizerReport | null;
  /** LoRA adapters applied to inputs (`model+lora`), recipe order. */
  loras?: LoraReport[];
}

/** One `model+lora` input: the adapter and its arithmetic (server/engine/lora). */
export interface LoraReport {
  model: string;
  adapter: string;
  r: number;
  lora_alpha: number;
  use_rslora: boolean;
  scale: number;
  tensors: number;
}

/** What the report needs from the request (a NativeMergeRequest or a Recipe both fit). */
export interface StatsReportSource {
  method: MergeMethod;
  models: readonly { path: string; weight: number; density: number; favored: boolean; gamma?: number; epsilon?: number; scale?: number | null }[];
  lambda?: number;
  t?: number;
  /** The request's explicit plan: its tensors' inputs map the engine's per-input statistics to models. */
  plan?: NativePlan | null;
  /** Absent: the defaults (mergekit's tie order; the counter generator, seed 0). */
  tieOrder?: TieOrder;
  randomStream?: RandomStream;
  seed?: number;
  /** sce: its one trim fraction, reported as every model's density. */
  selectTopk?: number;
}

/** Zero counters for a model that is not an input of a tensor. */
const ABSENT_MODEL: NativeModelTensorStats = {
  weight: 0,
  density: 0,
  trimmed: false,
  k: 0,
  threshold: null,
  nGreaterThanThreshold: 0,
  nEqualToThreshold: 0,
  nKeptAtThreshold: 0,
  nnzTrimmed: 0,
  discarded: 0,
  discardedL1: 0,
  rescued: 0,
  contributing: 0,
  inConflict: 0,
  conflictsWon: 0,
  nTopRemoved: 0,
  topThreshold: null,
  rescaleFactor: null,
  randomFirstDraw: null,
  randomDraws: 0,
  keepProbabilityMin: null,
  keepProbabilityMax: null,
};

/** The engine's per-input statistics of tensor `i` laid out per model (recipe order), and its parameters. */
function perModelLayout(source: StatsReportSource, t: NativeTensorStats, i: number): { models: NativeModelTensorStats[]; parameters: TensorParameters; geometry: Geometry | null } {
  const n = source.models.length;
  const planned = source.plan?.tensors[i];
  if (!planned) {
    if (t.models.length !== n) {
      throw new Error(`engine result for tensor "${t.name}" has statistics for ${t.models.length} models, but the request has ${n}`);
    }
    return {
      models: t.models,
      geometry: t.geometry ? geometryOf(t.geometry) : null,
      parameters: {
        lambda: source.lambda ?? 1,
        t: source.method === "slerp" ? (source.t ?? null) : null,
        models: source.models.map((m) => ({ input: t.name, weight: m.weight, density: m.density, gamma: m.gamma ?? 0.01, epsilon: m.epsilon ?? 0.15, scale: m.scale ?? null })),
      },
    };
  }
  if (planned.name !== t.name || planned.inputs.length !== t.models.length) {
    throw new Error(`engine result for tensor "${t.name}" does not follow the plan (expected "${planned.name}" with ${planned.inputs.length} inputs)`);
  }
  const models = new Array<NativeModelTensorStats>(n).fill(ABSENT_MODEL);
  const params: TensorParameters["models"] = new Array(n).fill(null);
  planned.inputs.forEach((input, j) => {
    models[input.slot] = t.models[j]!;
    params[input.slot] = { input: input.tensor, weight: input.weight, density: input.density, gamma: input.gamma, epsilon: input.epsilon, scale: input.scale ?? null };
  });
  // Geometry only where the inputs are every model in recipe order (its pair is models 0 and 1).
  const inOrder = planned.inputs.length === n && planned.inputs.every((input, j) => input.slot === j);
  const geometry = inOrder && t.geometry ? geometryOf(t.geometry) : null;
  return { models, geometry, parameters: { lambda: planned.lambda, t: source.method === "slerp" ? planned.t : null, models: params } };
}

export interface StatsReportOptions {
  /** Per model, in recipe order: a label such as "sft" or "ct-8B" (from the experiment). */
  roles?: readonly (string | undefined)[];
}

function emptyGroup(nModels: number): StatsGroup {
  const zeros = () => new Array<number>(nModels).fill(0);
  return {
    tensors: 0,
    numel: 0,
    sign_conflicts: 0,
    n_positions_no_contributor: 0,
    n_majority_negative: 0,
    sv_candidates: 0,
    sv_reserved: 0,
    selected: 0,
    geometry: null,
    k: zeros(),
    nnz_trimmed: zeros(),
    discarded: zeros(),
    discarded_l1: zeros(),
    rescued: zeros(),
    conflicts_won: zeros(),
    in_conflict: zeros(),
    contributing: zeros(),
  };
}

function addInto(group: StatsGroup, t: TensorStatsEntry): void {
  group.tensors += 1;
  group.numel += t.numel;
  group.sign_conflicts += t.sign_conflicts;
  group.n_positions_no_contributor += t.n_positions_no_contributor;
  group.n_majority_negative += t.n_majority_negative;
  group.sv_candidates += t.sv_candidates;
  group.sv_reserved += t.sv_reserved;
  group.selected += t.selected ?? 0;
  if (t.geometry) group.geometry = addGeometry(group.geometry, t.geometry);
  for (const f of PER_MODEL_FIELDS) {
    const target = group[f];
    t[f].forEach((v, i) => (target[i] = target[i]! + v));
  }
}

export function buildStatsReport(source: StatsReportSource, result: NativeMergeResult, opts: StatsReportOptions = {}): StatsReport {
  const n = source.models.length;
  const tensors: TensorStatsEntry[] = result.tensors.map((native, i) => {
    const { models: perInput, parameters, geometry } = perModelLayout(source, native, i);
    const t = { ...native, models: perInput };
    const perModel = (f: keyof PerModelCounts) => t.models.map((m) => m[FROM_NATIVE[f]] as number);
    const { layer, module } = tagTensor(t.name);
    return {
      name: t.name,
      layer,
      module,
      numel: t.numel,
      shape: [...t.shape],
      dtype: t.dtype,
      k: perModel("k"),
      threshold: t.models.map((m) => m.threshold),
      n_equal_to_threshold: t.models.map((m) => (m.threshold === null ? 0 : m.nEqualToThreshold)),
      n_kept_at_threshold: t.models.map((m) => (m.threshold === null ? 0 : m.nKeptAtThreshold)),
      random_first_draw: t.models.map((m) => m.randomFirstDraw),
      nnz_trimmed: perModel("nnz_trimmed"),
      discarded: perModel("discarded"),
      discarded_l1: perModel("discarded_l1"),
      rescued: perModel("rescued"),
      conflicts_won: perModel("conflicts_won"),
      in_conflict: perModel("in_conflict"),
      contributing: perModel("contributing"),
      sign_conflicts: t.signConflicts,
      n_positions_no_contributor: t.noContributor,
      n_majority_negative: t.majorityNegative,
      sv_candidates: t.svCandidates,
      sv_reserved: t.svReserved,
      row_cut: t.rowCut,
      parameters,
      selected: t.selected ?? null,
      fallback_vectors: t.fallbackVectors ?? 0,
      iterations: t.iterations ?? 0,
      geometry,
    };
  });

  const totals = emptyGroup(n);
  const layers = new Map<number | null, StatsGroup>();
  const modules = new Map<TensorModule, StatsGroup>();
  for (const t of tensors) {
    addInto(totals, t);
    if (!layers.has(t.layer)) layers.set(t.layer, emptyGroup(n));
    addInto(layers.get(t.layer)!, t);
    if (!modules.has(t.module)) modules.set(t.module, emptyGroup(n));
    addInto(modules.get(t.module)!, t);
  }
  const layerOrder = [...layers.keys()].sort((a, b) => (a === null ? 1 : b === null ? -1 : a - b));

  const ranks = RANKING_METHODS.includes(source.method);
  const draws = RANDOM_METHODS.includes(source.method);
  const della = source.method === "della" || source.method === "della_linear";
  return {
    method: source.method,
    tie_order: ranks ? (source.tieOrder ?? "mergekit") : null,
    random: draws ? { stream: della ? "mergekit" : (source.randomStream ?? "counter"), seed: source.seed ?? 0 } : null,
    models: source.models.map((m, i) => {
      const role = opts.roles?.[i];
      // sce trims every model with the same select_topk: that is each model's density here (and in the analysis charts).
      const density = source.method === "sce" ? (source.selectTopk ?? 1) : m.density;
      return { path: m.path, ...(role !== undefined ? { role } : {}), weight: m.weight, density, favored: m.favored };
    }),
    tensors,
    totals,
    byLayer: layerOrder.map((layer) => ({ layer, ...layers.get(layer)! })),
    byModule: TENSOR_MODULES.filter((m) => modules.has(m)).map((module) => ({ module, ...modules.get(module)! })),
    warnings: [...result.warnings],
    slack_budget: result.slackBudget,
    margins: marginsOf(result.margins),
  };
}

/** Share of a model's trimmed non-zeros dropped by the sign election, in percent (0 when it has none). */
export function discardedPercent(group: PerModelCounts, model: number): number {
  const nnz = group.nnz_trimmed[model] ?? 0;
  return nnz === 0 ? 0 : (100 * (group.discarded[model] ?? 0)) / nnz;
}
