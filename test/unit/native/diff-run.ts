// Runs one DiffCase (diff-gen.ts) through the native engine and the TypeScript reference
// and lists every difference. Used by differential.test.ts.
//
// What is compared, and with which tolerance:
//   * merged values: the raw bytes of every output tensor — EXACT (bit-for-bit, so +0/-0
//     count as different). Both sides implement the same operation order (README of
//     test/fixtures/golden, merge_kernels.h), so there is no excuse for a 1-ULP difference.
//   * every per-tensor and per-model statistic: EXACT, except discardedL1 (a float64 sum of
//     |trimmed delta|): relative 1e-12, because the reference adds position by position while
//     the engine adds 8 interleaved lanes per 1024-element tile, then tiles, then chunks —
//     a different (fixed) summation order whose rounding differs by ~sqrt(n) * 2^-53.
//   * ties_sv: per tensor candidates / reserved (= favored model's rescued), and for model
//     scope the budget R = min(#candidates, floor(slack * favored nnz)) — EXACT.
//   * determinism: statistics-only run (threads 1) vs writing runs (threads 3 and 1):
//     identical statistics (discardedL1 included, bit-exact) and identical shard sha256.
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { encodeFloats, f32Bits, roundTo, type FloatDType } from "@/server/engine/dtype";
import { runNativeMerge } from "@/server/engine/native-merge";
import {
  breadcrumbsModel,
  dareModel,
  dellaModel,
  linear,
  makeArith,
  modelStock,
  slerp,
  taskArithmetic,
  tiesModel,
  tiesSvModel,
  type RefTensor,
  type TiesModelStats,
  type TiesOptions,
  type TiesTensorInput,
  type TiesTensorStats,
} from "@/test/reference";
import { writeSafetensors } from "@/server/engine/safetensors";
import { readSafetensors } from "@/test/support/safetensors";
import type { NativeMergeRequest, NativeMergeResult, NativeModelTensorStats, NativeTensorStats } from "@/server/engine/types";
import type { DiffCase } from "./diff-gen";

/** Relative tolerance of discardedL1 (see file comment). */
export const L1_REL_TOL = 1e-12;

export interface RefResult {
  outputs: Map<string, Float32Array>;
  stats: Map<string, NativeTensorStats>;
  /** Model-scope ties_sv: min(#candidates, floor(slack * favored nnz)); else null. */
  slackBudget: number | null;
  /** ties_sv: reserved positions over the model. */
  reserved: number | null;
  /** Situations this case exercised (for the coverage check of the random test). */
  flags: Set<string>;
  /** breadcrumbs: task vectors dropped by mergekit's int(gamma * numel) == 0 edge case. */
  droppedNoOutliers: number;
}

export interface CaseFiles {
  dir: string;
  base: string | null;
  models: string[];
  inputs: { base: Map<string, RefTensor>; models: Map<string, RefTensor>[] };
}

/** Writes base (not for linear) and one file per model, then reads them back (widened to f32). */
export function writeInputs(c: DiffCase, dir: string): CaseFiles {
  mkdirSync(dir, { recursive: true });
  const write = (file: string, pick: (t: DiffCase["tensors"][number]) => Float32Array) => {
    const p = path.join(dir, file);
    writeSafetensors(p, c.tensors.map((t) => ({ name: t.name, dtype: c.dtype, shape: t.shape, data: pick(t) })));
    return p;
  };
  const read = (p: string) => {
    const st = readSafetensors(p);
    return new Map(st.tensorNames().map((n) => [n, { shape: st.info(n).shape, data: st.readFloat32(n) }]));
  };
  const base = c.method === "linear" ? null : write("base.safetensors", (t) => t.base);
  const models = c.weights.map((_, i) => write(`model_${i}.safetensors`, (t) => t.models[i]!));
  return { dir, base, models, inputs: { base: base ? read(base) : new Map(), models: models.map(read) } };
}

export function nativeRequest(c: DiffCase, files: CaseFiles, outDir: string | null, threads: number, method = c.method): NativeMergeRequest {
  return {
    method,
    consensus: c.consensus,
    normalize: c.normalize,
    lambda: c.lambda,
    computeDtype: c.mode === "native" ? "storage" : "F32",
    outDtype: c.mode === "native" ? null : c.dtype,
    slack: c.slack,
    slackScope: c.scope,
    rescale: c.rescale,
    seed: c.seed,
    randomStream: c.randomStream,
    tieOrder: c.tieOrder,
    keepIfNoOutliers: c.keepIfNoOutliers,
    t: c.t,
    filterWise: c.filterWise,
    densities: null,
    basePath: files.base,
    models: files.models.map((p, i) => ({
      path: p,
      weight: c.weights[i]!,
      density: c.densities[i]!,
      favored: method === "ties_sv" && i === c.favored,
      gamma: c.gammas[i]!,
      epsilon: c.epsilons[i]!,
    })),
    outDir,
    shardSizeBytes: 1e12,
    threads,
  };
}

function untouchedModel(c: DiffCase, i: number, numel: number): NativeModelTensorStats {
  return {
    weight: c.weights[i]!,
    density: c.densities[i]!,
    trimmed: false,
    k: numel,
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
    conflictsWon: 0, nTopRemoved: 0, topThreshold: null, rescaleFactor: null, randomFirstDraw: null, randomDraws: 0, keepProbabilityMin: null, keepProbabilityMax: null,
  };
}

/** The reference's ties statistics in the engine's shape (null "not trimmed" fields -> the engine's 0 / numel). */
type TrimExtras = {
  nTopRemoved?: number;
  topThreshold?: number | null;
  rescaleFactor?: number | null;
  randomFirstDraw?: number | null;
  randomDraws?: number;
  keepProbabilityMin?: number | null;
  keepProbabilityMax?: number | null;
};

function fromTiesStats(
  c: DiffCase,
  s: TiesTensorStats,
  name: string,
  shape: number[],
  sv: { candidates: number; reserved: number } | null,
  extras: readonly TrimExtras[] = [],
): NativeTensorStats {
  return {
    name,
    shape,
    dtype: c.dtype,
    numel: s.numel,
    rowCut: false,
    signConflicts: s.signConflicts,
    noContributor: s.noContributor,
    majorityNegative: s.majorityNegative,
    svCandidates: sv?.candidates ?? 0,
    svReserved: sv?.reserved ?? 0, interpolationT: null,
    models: s.models.map((m: TiesModelStats, i) => ({
      weight: c.weights[i]!,
      density: c.densities[i]!,
      trimmed: m.k !== null,
      k: m.k ?? s.numel,
      threshold: m.threshold,
      nGreaterThanThreshold: m.nGreaterThanThreshold ?? 0,
      nEqualToThreshold: m.nEqualToThreshold ?? 0,
      nKeptAtThreshold: m.nKeptAtThreshold ?? 0,
      nnzTrimmed: m.nnzTrimmed,
      discarded: m.discarded,
      discardedL1: m.discardedL1,
      rescued: m.rescued,
      contributing: m.contributing,
      inConflict: m.inConflict,
      conflictsWon: m.conflictsWon,
      nTopRemoved: extras[i]?.nTopRemoved ?? 0,
      topThreshold: extras[i]?.topThreshold ?? null,
      rescaleFactor: extras[i]?.rescaleFactor ?? null,
      randomFirstDraw: extras[i]?.randomFirstDraw ?? null,
      randomDraws: extras[i]?.randomDraws ?? 0,
      keepProbabilityMin: extras[i]?.keepProbabilityMin ?? null,
      keepProbabilityMax: extras[i]?.keepProbabilityMax ?? null,
    })),
  };
}

/** Runs the TypeScript reference on the values read back from the input files. */
export function runReference(c: DiffCase, files: CaseFiles): RefResult {
  const precision = { dtype: c.dtype as FloatDType, mode: c.mode };
  const outputs = new Map<string, Float32Array>();
  const stats = new Map<string, NativeTensorStats>();
  const names = c.tensors.map((t) => t.name);
  const { base, models } = files.inputs;
  let slackBudget: number | null = null;
  let reserved: number | null = null;
  let droppedNoOutliers = 0;
  const flags = caseFlags(c);
  if (c.method === "linear") {
    for (const name of names) {
      const ms = models.map((m, i) => ({ tensor: m.get(name)!, weight: c.weights[i]! }));
      outputs.set(name, linear(ms, { ...precision, normalize: c.normalize }));
      const shape = ms[0]!.tensor.shape;
      const numel = ms[0]!.tensor.data.length;
      stats.set(name, emptyTensorStats(c, name, shape, numel));
    }
  } else if (c.method === "task_arithmetic") {
    const arith = makeArith(precision);
    for (const name of names) {
      const b = base.get(name)!;
      const ms = models.map((m, i) => ({ tensor: m.get(name)!, weight: c.weights[i]! }));
      outputs.set(name, taskArithmetic(b, ms, { ...precision, normalize: c.normalize, lambda: c.lambda }));
      // The engine reports nnz of each task vector (nnzTrimmed) and of each weighted task
      // vector (contributing); the reference has no task_arithmetic statistics, so derive
      // them with the same arithmetic (delta = R(x - b), wd = R(R(w) * delta)).
      const t = emptyTensorStats(c, name, b.shape, b.data.length);
      ms.forEach((m, i) => {
        const w = arith.weightValue(m.weight);
        let nnz = 0;
        let nnzW = 0;
        for (let j = 0; j < b.data.length; j++) {
          const delta = arith.sub(m.tensor.data[j]!, b.data[j]!);
          if (delta !== 0) nnz++;
          if (arith.mul(w, delta) !== 0) nnzW++;
        }
        t.models[i]!.nnzTrimmed = nnz;
        t.models[i]!.contributing = nnzW;
      });
      stats.set(name, t);
    }
  } else if (c.method === "breadcrumbs" || c.method === "breadcrumbs_ties") {
    const inputs = new Map(
      names.map((name) => [
        name,
        {
          base: base.get(name)!,
          models: models.map((m, i) => ({ tensor: m.get(name)!, weight: c.weights[i]!, density: c.densities[i]!, gamma: c.gammas[i]! })),
        },
      ]),
    );
    const options = { ...precision, consensus: c.consensus, normalize: c.normalize, lambda: c.lambda, keepIfNoOutliers: c.keepIfNoOutliers, tieOrder: c.tieOrder };
    for (const [name, r] of breadcrumbsModel(inputs, options, c.method === "breadcrumbs_ties")) {
      outputs.set(name, r.merged);
      const extras = r.vectors.trims.map((info) => ({ nTopRemoved: info.nTopRemoved, topThreshold: info.topThreshold }));
      droppedNoOutliers += r.vectors.trims.filter((info) => info.droppedWhole).length;
      if (r.vectors.trims.some((info) => info.droppedWhole)) flags.add("breadcrumbs dropped a task vector (n_top == 0)");
      if (r.vectors.trims.some((info) => info.nTopRemoved > 0 && info.k === 0)) flags.add("breadcrumbs kept nothing below the outliers");
      stats.set(name, fromTiesStats(c, r.stats, name, base.get(name)!.shape, null, extras));
    }
  } else if (c.method === "dare_linear" || c.method === "dare_ties") {
    const inputs = new Map<string, TiesTensorInput>(
      names.map((name) => [name, { base: base.get(name)!, models: models.map((m, i) => ({ tensor: m.get(name)!, weight: c.weights[i]!, density: c.densities[i]! })) }]),
    );
    const options = { ...precision, consensus: c.consensus, normalize: c.normalize, lambda: c.lambda, seed: c.seed, rescale: c.rescale, random: c.randomStream };
    let draws = 0; // the mergekit stream's position, tensors in name order
    const results = dareModel(inputs, options, c.method === "dare_ties");
    for (const [name, r] of results) {
      outputs.set(name, r.merged);
      const extras = r.vectors.trims.map((info) => {
        const drew = c.randomStream === "mergekit" && info.k !== null;
        const e = {
          rescaleFactor: info.rescaleFactor ?? null,
          randomFirstDraw: drew ? draws : null,
          randomDraws: drew ? info.numel : 0,
          keepProbabilityMin: drew ? keepP(c, info.density) : null,
          keepProbabilityMax: drew ? keepP(c, info.density) : null,
        };
        if (drew) draws += info.numel;
        return e;
      });
      if (r.vectors.trims.some((info) => info.rescaleFactor !== null && info.rescaleFactor !== undefined)) flags.add("dare rescaled");
      stats.set(name, fromTiesStats(c, r.stats, name, base.get(name)!.shape, null, extras));
    }
  } else if (c.method === "della" || c.method === "della_linear") {
    const inputs = new Map(
      names.map((name) => [
        name,
        {
          base: base.get(name)!,
          models: models.map((m, i) => ({ tensor: m.get(name)!, weight: c.weights[i]!, density: c.densities[i]!, epsilon: c.epsilons[i]! })),
        },
      ]),
    );
    const options = { ...precision, consensus: c.consensus, normalize: c.normalize, lambda: c.lambda, seed: c.seed, rescale: c.rescale, tieOrder: c.tieOrder };
    for (const [name, r] of dellaModel(inputs, options, c.method === "della")) {
      outputs.set(name, r.merged);
      const extras = r.vectors.trims.map((info) => ({
        rescaleFactor: info.rescaleFactor,
        randomFirstDraw: info.randomFirstDraw,
        randomDraws: info.randomDraws,
        keepProbabilityMin: info.keepProbabilityMin,
        keepProbabilityMax: info.keepProbabilityMax,
      }));
      if (r.vectors.trims.some((info) => info.rescaleFactor !== null)) flags.add("della rescaled");
      stats.set(name, fromTiesStats(c, r.stats, name, base.get(name)!.shape, null, extras));
    }
  } else if (c.method === "slerp" || c.method === "model_stock") {
    for (const name of names) {
      const b = base.get(name)!;
      const t = emptyTensorStats(c, name, b.shape, b.data.length);
      if (c.method === "slerp") {
        outputs.set(name, slerp(b, models[0]!.get(name)!, { dtype: c.dtype as FloatDType, t: c.t }).merged);
        t.interpolationT = c.t;
      } else {
        const r = modelStock(b, models.map((m) => m.get(name)!), { ...precision, filterWise: c.filterWise });
        outputs.set(name, r.merged);
        t.interpolationT = r.interpolationT;
      }
      stats.set(name, t);
    }
  } else {
    const inputs = new Map<string, TiesTensorInput>(
      names.map((name) => [
        name,
        { base: base.get(name)!, models: models.map((m, i) => ({ tensor: m.get(name)!, weight: c.weights[i]!, density: c.densities[i]! })) },
      ]),
    );
    const options: TiesOptions = { ...precision, consensus: c.consensus, normalize: c.normalize, lambda: c.lambda, tieOrder: c.tieOrder };
    if (c.method === "ties") {
      for (const [name, r] of tiesModel(inputs, options)) {
        outputs.set(name, r.merged);
        stats.set(name, fromTiesStats(c, r.stats, name, base.get(name)!.shape, null));
      }
    } else {
      const r = tiesSvModel(inputs, { ...options, favored: c.favored, slack: c.slack, scope: c.scope });
      for (const [name, t] of r.tensors) {
        outputs.set(name, t.merged);
        stats.set(name, fromTiesStats(c, t.stats, name, base.get(name)!.shape, { candidates: t.candidates, reserved: t.reserved }));
      }
      // r.budget is floor(slack * nnz) (uncapped); the engine's R is capped by the candidates.
      if (c.scope === "model") slackBudget = Math.min(r.budget, r.candidates);
      reserved = r.reserved;
      svFlags(c, r.tensors, flags);
    }
  }
  for (const t of stats.values()) statFlags(c, t, flags);
  return { outputs, stats, slackBudget, reserved, flags, droppedNoOutliers };
}

/** DARE's keep probability in the work dtype (BF16 for native BF16 compute, else float32). */
function keepP(c: DiffCase, density: number): number {
  return c.mode === "native" && c.dtype === "BF16" ? roundTo("BF16", Math.fround(density)) : Math.fround(density);
}

function caseFlags(c: DiffCase): Set<string> {
  const flags = new Set<string>([`method:${c.method}`, `dtype:${c.dtype}/${c.mode}`, `models:${c.weights.length}`]);
  if (c.weights.some((w) => w < 0)) flags.add("negative weight");
  if (c.lambda !== 1) flags.add("lambda != 1");
  flags.add(`normalize:${c.normalize}`);
  if (c.method === "ties") flags.add(`consensus:${c.consensus}`);
  if (c.method === "ties_sv") flags.add(`ties_sv:${c.scope} slack=${c.slack}`);
  for (const dens of c.densities) flags.add(`density:${dens}`);
  for (const t of c.tensors) {
    if (t.models[0]!.length === 0) flags.add(`empty tensor ${JSON.stringify(t.shape)}`);
    if (t.models[0]!.length === 1) flags.add("1-element tensor");
    if (t.models[0]!.length > 65536) flags.add("tensor > one 64Ki chunk");
  }
  return flags;
}

function statFlags(c: DiffCase, t: NativeTensorStats, flags: Set<string>): void {
  if (c.method === "breadcrumbs" || c.method === "breadcrumbs_ties") {
    for (const m of t.models)
      if (m.nKeptAtThreshold > 0 && m.nKeptAtThreshold < m.nEqualToThreshold) flags.add(`breadcrumbs threshold ties split (${c.tieOrder})`);
  }
  if (c.method === "della" || c.method === "della_linear") {
    for (const m of t.models) if (m.randomFirstDraw !== null && m.randomFirstDraw > 0) flags.add("della stream position > 0");
  }
  if (c.method !== "ties" && c.method !== "ties_sv") return;
  for (const m of t.models) {
    if (m.trimmed && m.k === 0) flags.add("trimmed with k = 0");
    if (m.threshold === 0) flags.add("threshold 0 (k > nnz)");
    if (m.nKeptAtThreshold > 0 && m.nKeptAtThreshold < m.nEqualToThreshold) {
      flags.add(`some threshold ties kept (${c.tieOrder} order)`);
      if (t.numel > 65536) flags.add(`some threshold ties kept, tensor > one chunk (${c.tieOrder} order)`);
    }
    if (m.discardedL1 > 0) flags.add("discardedL1 > 0");
  }
  if (t.signConflicts > 0) flags.add("sign conflicts");
  if (t.noContributor > 0) flags.add("positions without contributor");
  if (t.majorityNegative > 0) flags.add("negative majority");
}

/**
 * ties_sv situations, recomputed from the reference's elections: budget binding (some but
 * not all candidates reserved), the R-th and (R+1)-th smallest margins equal (the cutoff
 * tie-break by name / index decides), the tied candidates spread over several tensors
 * (model scope: name order decides), and in F32 compute the boundary 2^16-key bucket
 * holding more candidates than needed (the engine's refinement pass).
 */
function svFlags(c: DiffCase, tensors: ReturnType<typeof tiesSvModel>["tensors"], flags: Set<string>): void {
  const groups = new Map<string, { margin: number; name: string }[]>();
  const reservedIn = new Map<string, number>();
  for (const [name, t] of tensors) {
    const group = c.scope === "model" ? "" : name;
    const list = groups.get(group) ?? [];
    const wf = t.election.weighted[c.favored]!;
    for (let j = 0; j < t.election.numel; j++) {
      const sgn = wf[j]! > 0 ? 1 : wf[j]! < 0 ? -1 : 0;
      if (sgn !== 0 && sgn !== t.election.elected[j]) list.push({ margin: Math.abs(t.election.score[j]!), name });
    }
    groups.set(group, list);
    reservedIn.set(group, (reservedIn.get(group) ?? 0) + t.reserved);
  }
  for (const [group, list] of groups) {
    const R = reservedIn.get(group)!;
    if (R === 0) continue;
    flags.add("ties_sv reserved > 0");
    if (R >= list.length) continue;
    flags.add("ties_sv budget < candidates");
    list.sort((a, b) => a.margin - b.margin);
    const cut = list[R - 1]!.margin;
    if (list[R]!.margin === cut) {
      flags.add(`ties_sv cutoff tie split (${c.scope} scope)`);
      if (new Set(list.filter((x) => x.margin === cut).map((x) => x.name)).size > 1) flags.add("ties_sv cutoff tie split across tensors (name order)");
    }
    if (c.mode === "f32" || c.dtype === "F32") {
      const bin = f32Bits(cut) >>> 16;
      const below = list.filter((x) => f32Bits(x.margin) >>> 16 < bin).length;
      const inBin = list.filter((x) => f32Bits(x.margin) >>> 16 === bin).length;
      if (R - below < inBin) flags.add(`ties_sv F32 boundary bucket refined (${c.scope} scope)`);
    }
  }
}

function emptyTensorStats(c: DiffCase, name: string, shape: number[], numel: number): NativeTensorStats {
  return {
    name,
    shape,
    dtype: c.dtype,
    numel,
    rowCut: false,
    signConflicts: 0,
    noContributor: 0,
    majorityNegative: 0,
    svCandidates: 0,
    svReserved: 0, interpolationT: null,
    models: c.weights.map((_, i) => untouchedModel(c, i, numel)),
  };
}

/** Byte-wise (UTF-8) name order, the engine's documented tensor order. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

const hex32 = (x: number) => f32Bits(x).toString(16).padStart(8, "0");

function sameStat(key: keyof NativeModelTensorStats, a: unknown, b: unknown): boolean {
  if (key === "discardedL1" && typeof a === "number" && typeof b === "number") {
    return a === b || Math.abs(a - b) <= L1_REL_TOL * Math.max(Math.abs(a), Math.abs(b));
  }
  return Object.is(a, b);
}

/** Differences between the engine's statistics and the reference's (see file comment for tolerances). */
export function compareStats(where: string, native: NativeMergeResult, ref: RefResult): string[] {
  const out: string[] = [];
  const names = [...ref.stats.keys()].sort(byteOrder);
  const got = native.tensors.map((t) => t.name);
  if (!isDeepStrictEqual(got, names)) out.push(`${where}: tensor order ${JSON.stringify(got)}, expected byte order ${JSON.stringify(names)}`);
  for (const t of native.tensors) {
    const e = ref.stats.get(t.name);
    if (!e) continue;
    for (const key of ["shape", "dtype", "numel", "rowCut", "signConflicts", "noContributor", "majorityNegative", "svCandidates", "svReserved", "interpolationT"] as const) {
      if (!isDeepStrictEqual(t[key], e[key])) out.push(`${where} ${t.name}: ${key} native ${JSON.stringify(t[key])} reference ${JSON.stringify(e[key])}`);
    }
    if (t.models.length !== e.models.length) {
      out.push(`${where} ${t.name}: ${t.models.length} model stats, expected ${e.models.length}`);
      continue;
    }
    t.models.forEach((m, i) => {
      const em = e.models[i]!;
      for (const key of Object.keys(em) as (keyof NativeModelTensorStats)[]) {
        if (!sameStat(key, m[key], em[key])) {
          const show = (v: unknown) => (key === "threshold" && typeof v === "number" ? `${v} (0x${hex32(v)})` : JSON.stringify(v));
          out.push(`${where} ${t.name} model ${i}: ${key} native ${show(m[key])} reference ${show(em[key])}`);
        }
      }
      if (Object.keys(m).length !== Object.keys(em).length) out.push(`${where} ${t.name} model ${i}: fields ${Object.keys(m).join()}`);
    });
  }
  if (native.slackBudget !== ref.slackBudget) out.push(`${where}: slackBudget native ${native.slackBudget} reference ${ref.slackBudget}`);
  if (ref.reserved !== null) {
    const rescued = native.tensors.reduce((s, t) => s + t.models.reduce((a, m) => a + m.rescued, 0), 0);
    if (rescued !== ref.reserved) out.push(`${where}: total rescued native ${rescued} reference ${ref.reserved}`);
  }
  // breadcrumbs: one warning for mergekit's edge case, naming how many task vectors it dropped
  const dropped = ref.droppedNoOutliers;
  const warnings = native.warnings.filter((w) => !(dropped > 0 && w.startsWith(`breadcrumbs: int(gamma * numel) is 0 for ${dropped} model tensor(s)`)));
  if (dropped > 0 && warnings.length === native.warnings.length) out.push(`${where}: no warning for ${dropped} dropped task vectors`);
  if (warnings.length > 0) out.push(`${where}: unexpected warnings ${JSON.stringify(warnings)}`);
  return out;
}

/** Output bytes differences (first few positions per tensor, with the inputs there). */
export function compareOutputs(where: string, c: DiffCase, files: CaseFiles, outFile: string, ref: RefResult, maxPerTensor = 3): string[] {
  const out: string[] = [];
  const st = readSafetensors(outFile);
  const names = st.tensorNames().slice().sort(byteOrder);
  const expectedNames = [...ref.outputs.keys()].sort(byteOrder);
  if (!isDeepStrictEqual(names, expectedNames)) out.push(`${where}: output tensors ${JSON.stringify(names)}, expected ${JSON.stringify(expectedNames)}`);
  for (const [name, expected] of ref.outputs) {
    if (!names.includes(name)) continue;
    const info = st.info(name);
    const shape = c.tensors.find((t) => t.name === name)!.shape;
    if (info.dtype !== c.dtype || !isDeepStrictEqual(info.shape, shape)) {
      out.push(`${where} ${name}: output ${info.dtype}${JSON.stringify(info.shape)}, expected ${c.dtype}${JSON.stringify(shape)}`);
      continue;
    }
    const got = st.readTensor(name).bytes;
    const want = encodeFloats(c.dtype, expected);
    if (Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(want.buffer, want.byteOffset, want.byteLength)) === 0) continue;
    const gotValues = st.readFloat32(name);
    let shown = 0;
    let differ = 0;
    for (let j = 0; j < expected.length; j++) {
      if (f32Bits(gotValues[j]!) === f32Bits(expected[j]!)) continue;
      differ++;
      if (shown++ >= maxPerTensor) continue;
      const b = files.inputs.base.get(name)?.data[j];
      const xs = files.inputs.models.map((m) => m.get(name)!.data[j]!);
      out.push(
        `${where} ${name}[${j}]: native ${gotValues[j]} (0x${hex32(gotValues[j]!)}) reference ${expected[j]} (0x${hex32(expected[j]!)}); ` +
          `base ${b} models ${JSON.stringify(xs)}`,
      );
    }
    out.push(`${where} ${name}: ${differ} of ${expected.length} output values differ`);
  }
  return out;
}

/** Statistics with the fields only ties_sv sets removed (to compare ties_sv slack 0 against ties). */
export function withoutSvFields(r: NativeMergeResult): unknown {
  return r.tensors.map((t) => ({ ...t, svCandidates: 0, svReserved: 0 }));
}

export function describeCase(c: DiffCase): string {
  const tensors = c.tensors.map((t) => `${t.name}${JSON.stringify(t.shape)}:${t.kind}`).join(" ");
  return (
    `case ${c.id}: ${c.method}${c.method === "ties" ? `/${c.consensus}` : ""}${c.method === "ties_sv" ? `/${c.scope} slack=${c.slack} favored=${c.favored}` : ""} ` +
    `${c.dtype} mode=${c.mode} normalize=${c.normalize} lambda=${c.lambda} weights=${JSON.stringify(c.weights)} densities=${JSON.stringify(c.densities)} [${tensors}]`
  );
}

export interface CaseOutcome {
  /** Every difference found (empty = outputs bit-exact, statistics equal). */
  problems: string[];
  flags: Set<string>;
}

/**
 * Runs the case through the reference and the engine: statistics only (threads 1), merge
 * (threads 3), and — when `rerunThreads1` or a tensor spans several 64Ki chunks (the unit
 * of parallel work; a one-chunk tensor is processed by one worker whatever the thread
 * count) — merge again with threads 1, whose shards must be byte-identical. ties_sv with
 * slack 0 also runs the engine's ties.
 */
export async function runCase(c: DiffCase, root: string, rerunThreads1 = true): Promise<CaseOutcome> {
  const dir = path.join(root, c.id.replace(/[^A-Za-z0-9_.-]/g, "_"));
  const files = writeInputs(c, dir);
  const ref = runReference(c, files);
  try {
    const multiChunk = c.tensors.some((t) => t.base.length > 65536);
    return { problems: await compareWithNative(c, files, ref, dir, rerunThreads1 || multiChunk), flags: ref.flags };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { problems: [`native engine failed: ${err.code ?? "?"}: ${err.message}`], flags: ref.flags };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function compareWithNative(c: DiffCase, files: CaseFiles, ref: RefResult, dir: string, rerun: boolean): Promise<string[]> {
  const outA = path.join(dir, "out-t3");
  mkdirSync(outA);
  const problems: string[] = [];
  const analysis = await runNativeMerge(nativeRequest(c, files, null, 1));
  const merged3 = await runNativeMerge(nativeRequest(c, files, outA, 3));
  problems.push(...compareStats("stats-only/threads=1", analysis, ref));
  const core = (r: NativeMergeResult) => ({ tensors: r.tensors, slackBudget: r.slackBudget, warnings: r.warnings });
  if (!isDeepStrictEqual(core(merged3), core(analysis))) {
    problems.push(...compareStats("merge/threads=3 (vs reference)", merged3, ref));
    problems.push("merge/threads=3: statistics differ from the statistics-only run (threads=1)");
  }
  const shardsOf = (r: NativeMergeResult) => r.shards.map((s) => `${s.filename}:${s.bytes}:${s.sha256}`);
  if (merged3.shards.length !== 1 || merged3.shards[0]!.filename !== "model.safetensors" || merged3.indexFile !== null) {
    problems.push(`merge: unexpected shards ${JSON.stringify(merged3.shards)} index ${merged3.indexFile}`);
  }
  if (rerun) {
    const outB = path.join(dir, "out-t1");
    mkdirSync(outB);
    const merged1 = await runNativeMerge(nativeRequest(c, files, outB, 1));
    if (!isDeepStrictEqual(core(merged1), core(merged3))) problems.push("merge: statistics differ between threads=1 and threads=3");
    if (!isDeepStrictEqual(shardsOf(merged1), shardsOf(merged3))) problems.push(`merge: shards differ between threads=1 and 3: ${shardsOf(merged1)} vs ${shardsOf(merged3)}`);
  }
  problems.push(...compareOutputs("output", c, files, path.join(outA, "model.safetensors"), ref));
  if (c.method === "ties_sv" && c.slack === 0) {
    // slack 0 must be exactly TIES, in the engine too (not only in the reference).
    const outT = path.join(dir, "out-ties");
    mkdirSync(outT);
    const ties = await runNativeMerge(nativeRequest(c, files, outT, 2, "ties"));
    if (!isDeepStrictEqual(shardsOf(ties), shardsOf(merged3))) problems.push("ties_sv slack=0: output differs from native ties");
    if (!isDeepStrictEqual(withoutSvFields(ties), withoutSvFields(merged3))) problems.push("ties_sv slack=0: statistics differ from native ties");
    if (merged3.tensors.some((t) => t.svReserved !== 0)) problems.push("ties_sv slack=0: reserved positions");
  }
  return problems;
}
