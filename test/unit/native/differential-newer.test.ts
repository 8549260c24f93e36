// Differential test of sce, nuslerp, multislerp, karcher, arcee_fusion and nearswap: the
// native engine (runNativeMerge) against the TypeScript reference (test/reference: sce.ts,
// spherical.ts, fusion.ts) on seeded random inputs, and thread-count determinism.
//
// Each case writes a base and 1-3 models (F32 / BF16 / F16, 2-D and 1-D tensors, sometimes one
// of 140000 elements spanning three 64Ki chunks and many 1024-element tiles, sometimes values on
// a coarse grid so variances tie at sce's top-k threshold) and merges them with threads 1 and 3.
//
// Tolerances:
//   * threads 1 vs 3: byte-identical shards (sha256) and identical statistics;
//   * 16-bit ("native") compute, every method, and float32 compute of sce, arcee_fusion and
//     nearswap (torch's float32 op sequence in both): bit-exact;
//   * float32 compute of nuslerp, multislerp and karcher (float64 evaluation, rounded once):
//     at most 1 ULP of the output dtype (the engine's float64 sums run in another order than
//     the reference's), and at most 1% of the positions off by that ULP;
//   * statistics: sce's k, threshold, counts at the threshold, per-model nnz / discarded /
//     contributing and the per-tensor sign conflicts; nearswap's and arcee_fusion's selected
//     positions; nuslerp's colinear vectors; karcher's iterations: exact.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { after, describe, test } from "node:test";
import { f32Bits, roundTo } from "@/server/engine/dtype";
import { runNativeMerge } from "@/server/engine/native-merge";
import { writeSafetensors } from "@/server/engine/safetensors";
import { fillNormal, Rng } from "@/server/engine/synthetic/prng";
import type { MergeMethod, NativeMergeRequest, NativeMergeResult, StorageDtype } from "@/server/engine/types";
import { arceeFusion, karcher, multislerp, nearswap, nuslerp, sce, type ComputeMode, type RefTensor } from "@/test/reference";
import { readSafetensors } from "@/test/support/safetensors";

const root = mkdtempSync(path.join(os.tmpdir(), "ms-diff-newer-"));
after(() => rmSync(root, { recursive: true, force: true }));

type Newer = "sce" | "nuslerp" | "multislerp" | "karcher" | "arcee_fusion" | "nearswap";

interface Case {
  id: string;
  method: Newer;
  dtype: StorageDtype;
  mode: ComputeMode;
  hasBase: boolean;
  weights: number[];
  params: Required<Pick<NativeMergeRequest, "selectTopk" | "nuslerpFlatten" | "nuslerpRowWise" | "normalizeWeights" | "eps" | "maxIter" | "tol" | "t">>;
  tensors: { name: string; shape: number[]; base: Float32Array; models: Float32Array[] }[];
}

const DTYPES: StorageDtype[] = ["F32", "BF16", "F16"];

function makeCase(method: Newer, i: number): Case {
  const rng = new Rng(`diff-newer-${method}-${i}`);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng.nextFloat() * xs.length)]!;
  const dtype = DTYPES[i % 3]!;
  const mode: ComputeMode = i % 2 === 0 ? "native" : "f32";
  const nModels = method === "arcee_fusion" || method === "nearswap" ? 1 : method === "nuslerp" ? 2 : 1 + Math.floor(rng.nextFloat() * 3) + (i % 5 === 0 ? 0 : 1);
  const hasBase = method === "sce" || method === "arcee_fusion" || method === "nearswap" ? true : i % 3 !== 1;
  const r = (x: number) => roundTo(dtype, x);
  const coarse = method === "sce" && i % 4 === 3; // values on a grid: many equal variances
  const shapes: number[][] = [[1 + Math.floor(rng.nextFloat() * 40), 1 + Math.floor(rng.nextFloat() * 70)], [1 + Math.floor(rng.nextFloat() * 3000)]];
  if (i % 7 === 0) shapes.push([350, 400]); // 140000 elements: 3 chunks, 137 tiles
  const tensors = shapes.map((shape, ti) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const base = fillNormal(rng, new Float32Array(n), 0.02).map(r);
    const shared = fillNormal(rng, new Float32Array(n), 0.003);
    const models = Array.from({ length: nModels }, (_, k) => {
      const noise = fillNormal(rng, new Float32Array(n), 0.003);
      const m = base.map((b, j) => {
        const d = shared[j]! * (k % 2 ? -0.5 : 1) + noise[j]!;
        return r(b + (coarse ? Math.round(d / 0.002) * 0.002 : d));
      });
      return m;
    });
    // nuslerp without base: row 0 of model 1 = 2 x row 0 of model 0 (exactly colinear -> lerp)
    if (method === "nuslerp" && !hasBase && ti === 0 && shape[0]! > 1) {
      for (let col = 0; col < shape[1]!; col++) models[1]![col] = 2 * models[0]![col]!;
    }
    return { name: `layers.${ti}.w`, shape, base, models };
  });
  return {
    id: `${method}-${i}`,
    method,
    dtype,
    mode,
    hasBase,
    weights: Array.from({ length: nModels }, () => 0.2 + Math.round(rng.nextFloat() * 40) / 20),
    params: {
      selectTopk: pick([0.01, 0.1, 0.3, 0.5, 0.9, 1]), // 0.01: 64k <= n, torch's partial_sort path
      nuslerpFlatten: i % 3 === 0,
      nuslerpRowWise: i % 2 === 1,
      normalizeWeights: i % 4 !== 2,
      eps: pick([1e-8, 1e-6]),
      maxIter: 1 + Math.floor(rng.nextFloat() * 10),
      tol: pick([1e-5, 1e-6, 1e-4]),
      t: pick([0.001, 0.002, 0.004, 0.01]),
    },
    tensors,
  };
}

function writeInputs(c: Case, dir: string): { base: string | null; models: string[] } {
  mkdirSync(dir, { recursive: true });
  const write = (file: string, pickData: (t: Case["tensors"][number]) => Float32Array) => {
    const p = path.join(dir, file);
    writeSafetensors(p, c.tensors.map((t) => ({ name: t.name, dtype: c.dtype, shape: t.shape, data: pickData(t) })));
    return p;
  };
  return {
    base: c.hasBase ? write("base.safetensors", (t) => t.base) : null,
    models: c.tensors[0]!.models.map((_, k) => write(`model_${k}.safetensors`, (t) => t.models[k]!)),
  };
}

function request(c: Case, files: { base: string | null; models: string[] }, outDir: string, threads: number): NativeMergeRequest {
  return {
    method: c.method as MergeMethod,
    consensus: "sum",
    normalize: false,
    lambda: 1,
    computeDtype: c.mode === "native" ? "storage" : "F32",
    outDtype: c.mode === "native" ? null : c.dtype,
    slack: 0,
    slackScope: "model",
    rescale: false,
    seed: 0,
    randomStream: "counter",
    tieOrder: "mergekit",
    keepIfNoOutliers: false,
    filterWise: false,
    densities: null,
    basePath: files.base,
    models: files.models.map((p, k) => ({ path: p, weight: c.weights[k]!, density: 1, favored: false, gamma: 0.01, epsilon: 0.15 })),
    outDir,
    shardSizeBytes: 1e12,
    threads,
    ...c.params,
  };
}

interface RefOut {
  merged: Float32Array;
  /** statistics to compare with the engine's (per tensor) */
  stats: Record<string, unknown>;
}

function reference(c: Case, t: Case["tensors"][number]): RefOut {
  const p = { dtype: c.dtype, mode: c.mode };
  const T = (data: Float32Array): RefTensor => ({ shape: t.shape, data });
  const base = c.hasBase ? T(t.base) : null;
  const models = t.models.map(T);
  switch (c.method) {
    case "sce": {
      const s = sce(base!, models, { ...p, selectTopk: c.params.selectTopk });
      return {
        merged: s.merged,
        stats: {
          k: s.k ?? null,
          threshold: s.threshold,
          nGreater: s.k ? s.nGreater : 0,
          nEqual: s.k ? s.nEqual : 0,
          kept: s.k ? s.nKeptAtThreshold : 0,
          nnz: s.models.map((m) => m.nnz),
          discarded: s.models.map((m) => m.discarded),
          contributing: s.models.map((m) => m.contributing),
          inConflict: s.models.map((m) => m.inConflict),
          signConflicts: s.signConflicts,
          noContributor: s.noContributor,
          majorityNegative: s.majorityNegative,
        },
      };
    }
    case "nuslerp": {
      const r = nuslerp(base, models[0]!, models[1]!, { ...p, weights: [c.weights[0]!, c.weights[1]!], flatten: c.params.nuslerpFlatten, rowWise: c.params.nuslerpRowWise });
      return { merged: r.merged, stats: { fallback: r.lerpVectors } };
    }
    case "multislerp":
      return { merged: multislerp(base, models, { ...p, weights: c.weights, normalizeWeights: c.params.normalizeWeights, eps: c.params.eps }), stats: {} };
    case "karcher": {
      const r = karcher(base, models, { ...p, maxIter: c.params.maxIter, tol: c.params.tol });
      return { merged: r.merged, stats: { iterations: r.iterations } };
    }
    case "arcee_fusion": {
      const r = arceeFusion(base!, models[0]!, p);
      return { merged: r.merged, stats: { selected: r.kept, threshold: r.threshold } };
    }
    case "nearswap": {
      const r = nearswap(base!, models[0]!, { ...p, t: c.params.t });
      return { merged: r.merged, stats: { selected: r.swapped } };
    }
  }
}

function engineStats(c: Case, t: NativeMergeResult["tensors"][number]): Record<string, unknown> {
  switch (c.method) {
    case "sce": {
      const m0 = t.models[0]!;
      return {
        k: m0.trimmed ? m0.k : null,
        threshold: m0.threshold,
        nGreater: m0.nGreaterThanThreshold,
        nEqual: m0.nEqualToThreshold,
        kept: m0.nKeptAtThreshold,
        nnz: t.models.map((m) => m.nnzTrimmed),
        discarded: t.models.map((m) => m.discarded),
        contributing: t.models.map((m) => m.contributing),
        inConflict: t.models.map((m) => m.inConflict),
        signConflicts: t.signConflicts,
        noContributor: t.noContributor,
        majorityNegative: t.majorityNegative,
      };
    }
    case "nuslerp":
      return { fallback: t.fallbackVectors };
    case "multislerp":
      return {};
    case "karcher":
      return { iterations: t.iterations };
    case "arcee_fusion":
      return { selected: t.selected, threshold: t.models[0]!.threshold };
    case "nearswap":
      return { selected: t.selected };
  }
}

/** ULP distance of two values of dtype `d` (both representable in it). */
function ulps(a: number, b: number, d: StorageDtype): number {
  const ord = (x: number) => {
    const u = f32Bits(x);
    return u & 0x80000000 ? -(u & 0x7fffffff) : u;
  };
  return Math.abs(ord(a) - ord(b)) / (d === "BF16" ? 65536 : d === "F16" ? 8192 : 1);
}

const coverage = new Map<string, number>();

async function runCase(c: Case): Promise<string[]> {
  const dir = path.join(root, c.id);
  const files = writeInputs(c, dir);
  const results: NativeMergeResult[] = [];
  for (const threads of [1, 3]) {
    const out = path.join(dir, `out-${threads}`);
    mkdirSync(out);
    results.push(await runNativeMerge(request(c, files, out, threads)));
  }
  const problems: string[] = [];
  const [one, three] = results as [NativeMergeResult, NativeMergeResult];
  if (!isDeepStrictEqual(one.shards, three.shards)) problems.push(`shards differ between threads 1 and 3`);
  if (!isDeepStrictEqual(one.tensors, three.tensors)) problems.push(`statistics differ between threads 1 and 3`);
  const st = readSafetensors(path.join(dir, "out-3", three.shards[0]!.filename));
  const approx = c.mode === "f32" && (c.method === "nuslerp" || c.method === "multislerp" || c.method === "karcher");
  for (const t of c.tensors) {
    const ref = reference(c, t);
    const got = st.readFloat32(t.name);
    const outDtype = (c.method === "arcee_fusion" && c.mode === "native") ? "F32" : c.dtype;
    let off = 0;
    let worst = 0;
    for (let j = 0; j < got.length; j++) {
      const want = roundTo(outDtype, ref.merged[j]!);
      if (f32Bits(got[j]!) === f32Bits(want)) continue;
      const u = ulps(got[j]!, want, outDtype);
      worst = Math.max(worst, u);
      off++;
    }
    const allowed = approx ? Math.floor(got.length / 100) : 0;
    if (off > allowed || (approx && worst > 1)) problems.push(`${t.name} ${JSON.stringify(t.shape)}: ${off} of ${got.length} values differ (worst ${worst} ULP, allowed ${allowed} at 1 ULP)`);
    const es = engineStats(c, three.tensors.find((x) => x.name === t.name)!);
    if (!isDeepStrictEqual(es, ref.stats)) problems.push(`${t.name}: statistics ${JSON.stringify(es)} vs reference ${JSON.stringify(ref.stats)}`);
    if (c.method === "sce" && ref.stats.k && (ref.stats.nEqual as number) > (ref.stats.kept as number)) {
      const k = ref.stats.k as number;
      const what = k * 64 <= got.length ? "sce partial threshold ties (partial_sort)" : "sce partial threshold ties (nth_element)";
      coverage.set(what, (coverage.get(what) ?? 0) + 1);
    }
    if (c.method === "nuslerp" && (ref.stats.fallback as number) > 0) coverage.set("nuslerp colinear vectors", (coverage.get("nuslerp colinear vectors") ?? 0) + 1);
    if (c.method === "nearswap" && (ref.stats.selected as number) > 0 && (ref.stats.selected as number) < got.length) coverage.set("nearswap partial", (coverage.get("nearswap partial") ?? 0) + 1);
    if (got.length > 65536) coverage.set("multi-chunk tensor", (coverage.get("multi-chunk tensor") ?? 0) + 1);
  }
  return problems;
}

const N = 24;

describe("newer methods: native engine vs TypeScript reference, random cases", () => {
  for (const method of ["sce", "nuslerp", "multislerp", "karcher", "arcee_fusion", "nearswap"] as const) {
    test(method, async () => {
      const failures: string[] = [];
      for (let i = 0; i < N; i++) {
        const c = makeCase(method, i);
        const problems = await runCase(c);
        if (problems.length > 0) failures.push(`${c.id} (${c.dtype}, ${c.mode}, base ${c.hasBase}, ${JSON.stringify(c.params)}):\n    ${problems.slice(0, 5).join("\n    ")}`);
      }
      assert.equal(failures.length, 0, `${failures.length} of ${N} cases differ:\n${failures.slice(0, 4).join("\n")}`);
    });
  }

  test("the random cases exercised the hard paths", () => {
    for (const what of ["sce partial threshold ties (partial_sort)", "sce partial threshold ties (nth_element)", "nuslerp colinear vectors", "nearswap partial", "multi-chunk tensor"]) {
      assert.ok((coverage.get(what) ?? 0) > 0, `no case hit: ${what}`);
    }
  });
});
