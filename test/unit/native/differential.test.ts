// Differential test: the native engine (runNativeMerge) against the TypeScript reference
// (server/engine/reference) on seeded random inputs, plus a few hand-made edge cases.
//
// Each case (diff-gen.ts) writes one safetensors file per model (+ base) into a temp dir,
// runs the engine — statistics only (threads 1), merge (threads 3), and for every 4th random
// case and every case with a multi-chunk tensor merge again with threads 1 — and the
// reference on the values read back from the same files.
//
// Tolerances (details in diff-run.ts):
//   * outputs: bit-exact (raw bytes of every output tensor, F32/F16/BF16);
//   * statistics: exactly equal, except discardedL1 (float64 sum, relative 1e-12: the engine
//     sums 8 interleaved lanes per tile, the reference position by position — a different
//     summation order; in practice it has been bit-equal in every case tried so far);
//   * ties_sv: candidates / reserved per tensor, total rescued and the model-scope budget
//     (NativeMergeResult.slackBudget = min(#candidates, floor(slack * favored nnz))): exact;
//   * threads 1 vs 3 and statistics-only vs merge: identical statistics and shard sha256;
//   * ties_sv with slack 0: identical to the engine's own ties (output bytes and statistics).
// Compute modes: reference "native" <-> request computeDtype "storage"; reference "f32" <->
// computeDtype "F32" with outDtype = the storage dtype.
//
// Hand-checked single merges pin the boundary cases where the two once disagreed.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test, type TestContext } from "node:test";
import { runNativeMerge } from "@/server/engine/native-merge";
import { roundTo } from "@/server/engine/dtype";
import { linear, taskArithmetic, tiesSvModel, type ComputeMode, type RefTensor } from "@/test/reference";
import { writeSafetensors } from "@/server/engine/safetensors";
import { readSafetensors } from "@/test/support/safetensors";
import type { NativeMergeRequest, StorageDtype } from "@/server/engine/types";
import { makeCase, type CaseOptions, type DiffCase, type DiffTensor } from "./diff-gen";
import { describeCase, runCase } from "./diff-run";

const root = mkdtempSync(path.join(os.tmpdir(), "ms-differential-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** Situations exercised by the random cases -> how many cases hit them (checked at the end). */
const coverage = new Map<string, number>();
let casesRun = 0;

/**
 * Regression found by this test: ties_sv, slackScope "model", F16 compute (F16 checkpoints
 * with computeDtype "storage", or computeDtype "F16") failed with INTERNAL "ties_sv: reserved
 * 0 positions, plan says N" (or "tensor data changed between pass 1 and pass 2") as soon as
 * the budget reached a candidate with a non-zero margin (148 of 300 random F16 model-scope
 * cases; none silently wrong). Cause: merge_engine.cc built the SlackPlanner from
 * `req.params`, whose `compute` stayed F32, while each tensor's slack_summarize binned
 * margins by their F16 bit pattern; the planner read those bins as F32 `key >> 16` bins. The
 * engine now bins margin keys the same way for every dtype. Covered by the random model-scope
 * group (every dtype/compute pair) and the 4-element reproducer below.
 */

async function runCases(t: TestContext, prefix: string, n: number, options: (i: number) => CaseOptions): Promise<void> {
  const failures: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = makeCase(`${prefix}-${i}`, options(i));
    // Writing again with threads 1 (byte-identical shards) for every 4th case and every
    // multi-chunk case; statistics are compared between threads 1 and 3 in every case.
    const { problems, flags } = await runCase(c, root, i % 4 === 0);
    casesRun++;
    for (const f of flags) coverage.set(f, (coverage.get(f) ?? 0) + 1);
    if (problems.length > 0) failures.push(`${describeCase(c)}\n    ${problems.slice(0, 8).join("\n    ")}`);
  }
  if (failures.length > 0) t.diagnostic(failures.slice(0, 3).join("\n"));
  assert.equal(failures.length, 0, `${failures.length} of ${n} cases differ (regenerate one with makeCase(id, options)):\n${failures.slice(0, 5).join("\n")}`);
}

// ties_sv model scope cycles through every (storage dtype, compute mode) pair.
const DTYPE_MODES: { dtype: StorageDtype; mode: ComputeMode }[] = [
  { dtype: "F32", mode: "native" },
  { dtype: "F32", mode: "f32" },
  { dtype: "BF16", mode: "native" },
  { dtype: "BF16", mode: "f32" },
  { dtype: "F16", mode: "native" },
  { dtype: "F16", mode: "f32" },
];

describe("native engine vs TypeScript reference, random cases", () => {
  // 50 small cases per group (2-6 tensors of up to 3072 elements, 2-3 models).
  const N = 50;
  test("linear", (t) => runCases(t, "linear", N, () => ({ method: "linear" })));
  test("task_arithmetic", (t) => runCases(t, "task_arithmetic", N, () => ({ method: "task_arithmetic" })));
  test("ties, sum election", (t) => runCases(t, "ties-sum", N, () => ({ method: "ties", consensus: "sum" })));
  test("ties, count election", (t) => runCases(t, "ties-count", N, () => ({ method: "ties", consensus: "count" })));
  test("ties_sv, tensor scope", (t) => runCases(t, "ties_sv-tensor", N, () => ({ method: "ties_sv", scope: "tensor" })));
  test("ties_sv, model scope (every dtype / compute pair)", (t) =>
    runCases(t, "ties_sv-model", N, (i) => ({ method: "ties_sv", scope: "model", ...DTYPE_MODES[i % DTYPE_MODES.length]! })));
  test("breadcrumbs", (t) => runCases(t, "breadcrumbs", N, () => ({ method: "breadcrumbs" })));
  test("breadcrumbs_ties (sum and count)", (t) =>
    runCases(t, "breadcrumbs_ties", N, (i) => ({ method: "breadcrumbs_ties", consensus: i % 2 ? "count" : "sum" })));
  test("dare_linear", (t) => runCases(t, "dare_linear", N, () => ({ method: "dare_linear" })));
  test("dare_ties (every dtype / compute pair)", (t) =>
    runCases(t, "dare_ties", N, (i) => ({ method: "dare_ties", ...DTYPE_MODES[i % DTYPE_MODES.length]! })));
  test("dare_ties, mergekit's stream (every dtype / compute pair)", (t) =>
    runCases(t, "dare_ties-mk", N, (i) => ({ method: "dare_ties", randomStream: "mergekit", ...DTYPE_MODES[i % DTYPE_MODES.length]! })));
  test("della (every dtype / compute pair)", (t) => runCases(t, "della", N, (i) => ({ method: "della", ...DTYPE_MODES[i % DTYPE_MODES.length]! })));
  test("della_linear", (t) => runCases(t, "della_linear", N, () => ({ method: "della_linear" })));
  test("slerp", (t) => runCases(t, "slerp", N, () => ({ method: "slerp" })));
  test("model_stock", (t) => runCases(t, "model_stock", N, () => ({ method: "model_stock" })));
  // One extra tensor of 70000 / 153600 / 140001 elements: 2-3 chunks of 64Ki, so threshold
  // ties and ties_sv cutoff ties are split across chunks (and threads).
  test("tensors spanning several 64Ki chunks", (t) => {
    const methods: CaseOptions[] = [
      { method: "ties", consensus: "sum", tieOrder: "mergekit" },
      { method: "ties", consensus: "count", tieOrder: "index" },
      { method: "ties", consensus: "sum", tieOrder: "mergekit", dtype: "BF16", mode: "native" },
      { method: "ties_sv", scope: "tensor", tieOrder: "mergekit" },
      { method: "ties_sv", scope: "model", dtype: "BF16" },
      { method: "ties_sv", scope: "model", dtype: "F32" },
      { method: "ties_sv", scope: "model", dtype: "F16", mode: "f32" },
      { method: "ties_sv", scope: "model", dtype: "F16", mode: "native" },
      { method: "task_arithmetic" },
      { method: "linear" },
      { method: "breadcrumbs_ties", dtype: "BF16" },
      { method: "breadcrumbs", dtype: "F32" },
      { method: "dare_ties", dtype: "BF16", mode: "native" },
      { method: "dare_linear", dtype: "F16", mode: "f32" },
      { method: "dare_linear", dtype: "BF16", mode: "native", randomStream: "mergekit" },
      { method: "della", dtype: "BF16", mode: "native" },
      { method: "della_linear", dtype: "F32", mode: "f32" },
      { method: "breadcrumbs_ties", dtype: "BF16", mode: "native", tieOrder: "mergekit" },
      { method: "slerp" },
      { method: "model_stock", dtype: "BF16", mode: "native" },
    ];
    return runCases(t, "big", methods.length, (i) => ({ ...methods[i]!, big: true }));
  });
});

// ---------------------------------------------------------------------------------------
// Hand-made cases.

type NewMethodFields = "gammas" | "keepIfNoOutliers" | "seed" | "rescale" | "t" | "filterWise" | "tieOrder" | "randomStream" | "epsilons";

function fixedCase(
  id: string,
  c: Omit<DiffCase, "id" | "tensors" | NewMethodFields> & Partial<Pick<DiffCase, NewMethodFields>>,
  tensors: Omit<DiffTensor, "kind">[],
): DiffCase {
  const defaults = {
    gammas: c.weights.map(() => 0.01),
    keepIfNoOutliers: false,
    seed: 0,
    rescale: true,
    t: 0.5,
    filterWise: false,
    tieOrder: "mergekit" as const,
    randomStream: "counter" as const,
    epsilons: c.weights.map(() => 0.15),
  };
  return { id, ...defaults, ...c, tensors: tensors.map((t) => ({ ...t, kind: "quant" })) };
}

const f32 = (xs: ArrayLike<number>) => Float32Array.from(xs);
const repeat = (n: number, f: (j: number) => number) => Float32Array.from({ length: n }, (_, j) => f(j));

describe("native engine vs TypeScript reference, edge cases", () => {
  const common = { consensus: "sum", normalize: true, lambda: 1, slack: 0, scope: "model", favored: 0 } as const;

  test("k = int(density * numel) in float64: int(0.29 * 100) = 28; density > 1 and 0", async () => {
    for (const method of ["ties", "ties_sv"] as const) {
      const c = fixedCase(`k-trunc-${method}`, { ...common, method, dtype: "F32", mode: "f32", slack: 0.5, weights: [1, 0.5, -1], densities: [0.29, 1.5, 0] }, [
        { name: "w", shape: [100], base: new Float32Array(100), models: [repeat(100, (j) => (j % 7) - 3), repeat(100, (j) => 3 - (j % 5)), repeat(100, (j) => j / 8)] },
      ]);
      const { problems } = await runCase(c, root);
      assert.deepEqual(problems, []);
    }
  });

  test("degenerate tensors only: empty [0] / [0,4] and 1-element, every method and dtype", async () => {
    for (const method of ["linear", "task_arithmetic", "ties", "ties_sv"] as const) {
      for (const dtype of ["F32", "F16", "BF16"] as const) {
        for (const mode of ["native", "f32"] as const) {
          const c = fixedCase(`degenerate-${method}-${dtype}-${mode}`, { ...common, method, dtype, mode, slack: 1, lambda: 0.5, weights: [1, -0.5], densities: [0.5, 1] }, [
            { name: "e1", shape: [0], base: f32([]), models: [f32([]), f32([])] },
            { name: "e2", shape: [0, 4], base: f32([]), models: [f32([]), f32([])] },
            { name: "one", shape: [1], base: f32([0.5]), models: [f32([0.75]), f32([0.25])] },
            { name: "one.b", shape: [1, 1], base: f32([0]), models: [f32([-0.125]), f32([0.5])] },
          ]);
          const { problems } = await runCase(c, root);
          assert.deepEqual(problems, [], c.id);
        }
      }
    }
  });

  test("every |delta| equal (all threshold ties and all margins tied) across 3 chunks", async () => {
    // Tensor "a" (150000 elements = 3 chunks of 64Ki): favored model +-0.5, model 1 -1
    // everywhere, densities [1, 0.5]: model 1 keeps its first 75000 entries (all ties at the
    // threshold, lowest flat index first: the kept range crosses the chunk boundary at 65536).
    // Where both are kept and the favored is +0.5 (j % 3 != 0), it loses with margin 0.5:
    // 50000 candidates, all with the same margin. Tensor "b" (1000): 500 more candidates.
    // slack 0.3: R = floor(0.3 * 151000) = 45300 (model scope) / 45000 and 300 (tensor scope)
    // -> a split of equal margins, decided by name ("a" first) and flat index across chunks.
    const n = 150_000;
    const cases = [["ties", "model", "BF16"], ["ties_sv", "model", "F32"], ["ties_sv", "model", "BF16"], ["ties_sv", "tensor", "F16"]] as const;
    for (const [method, scope, dtype] of cases) {
      const c = fixedCase(`all-ties-${method}-${scope}-${dtype}`, { ...common, method, scope, dtype, mode: "native", slack: 0.3, weights: [1, 1], densities: [1, 0.5] }, [
        { name: "a", shape: [n], base: new Float32Array(n), models: [repeat(n, (j) => (j % 3 === 0 ? -0.5 : 0.5)), repeat(n, () => -1)] },
        { name: "b", shape: [1000], base: new Float32Array(1000), models: [repeat(1000, () => 0.5), repeat(1000, () => -1)] },
      ]);
      const { problems, flags } = await runCase(c, root);
      assert.deepEqual(problems, [], c.id);
      assert.ok(flags.has("some threshold ties kept, tensor > one chunk (mergekit order)"), `${c.id}: ${[...flags].join(", ")}`);
      if (method === "ties_sv") assert.ok(flags.has(`ties_sv cutoff tie split (${scope} scope)`), `${c.id}: ${[...flags].join(", ")}`);
    }
  });

  // --- hand-checked single merges: regressions where engine and reference once disagreed ---

  function vec(values: number[]): RefTensor {
    return { shape: [values.length], data: new Float32Array(values) };
  }

  function writeModel(dir: string, file: string, dtype: StorageDtype, tensors: [string, number[]][]): string {
    const p = path.join(dir, file);
    writeSafetensors(p, tensors.map(([name, v]) => ({ name, dtype, shape: [v.length], data: new Float32Array(v) })));
    return p;
  }

  async function nativeOutput(request: NativeMergeRequest, names: string[]): Promise<Record<string, number[]>> {
    await runNativeMerge(request);
    const st = readSafetensors(path.join(request.outDir!, "model.safetensors"));
    return Object.fromEntries(names.map((n) => [n, [...st.readFloat32(n)]]));
  }

  const svRequest = (dir: string, base: string, sft: string, ct: string, extra: Partial<NativeMergeRequest>): NativeMergeRequest => {
    const outDir = path.join(dir, "out");
    mkdirSync(outDir);
    return {
      method: "ties_sv", consensus: "sum", normalize: true, lambda: 1, computeDtype: "storage", outDtype: null, slack: 0.3, slackScope: "model", rescale: false, seed: 0, randomStream: "counter", tieOrder: "mergekit", keepIfNoOutliers: false, t: 0, filterWise: false, densities: null,
      basePath: base, models: [{ path: sft, weight: 1, density: 1, favored: true, gamma: 0.01, epsilon: 0.15 }, { path: ct, weight: 1, density: 1, favored: false, gamma: 0.01, epsilon: 0.15 }],
      outDir, shardSizeBytes: 1e12, threads: 1, ...extra,
    };
  };

  // Hand case of test/unit/engine/ties-sv.test.ts (one tensor): sft [0.5,-0.25,1,0.125],
  // ct [-1,0.5,1,-0.25], base 0, slack 0.3 -> R = floor(0.3 * 4) = 1 reserves index 3 (margin 0.125).
  // The engine used to fail here with INTERNAL "reserved 0 positions, plan says 1" (see above).
  test("regression: ties_sv model scope, F16 compute (F16 storage, and F32 storage with computeDtype F16), 4 elements", async () => {
    const ref = tiesSvModel(new Map([["a.weight", { base: vec([0, 0, 0, 0]), models: [{ tensor: vec([0.5, -0.25, 1, 0.125]), weight: 1, density: 1 }, { tensor: vec([-1, 0.5, 1, -0.25]), weight: 1, density: 1 }] }]]), {
      dtype: "F16", mode: "native", favored: 0, slack: 0.3,
    });
    assert.deepEqual([...ref.tensors.get("a.weight")!.merged], [-1, 0.5, 1, 0.125]);
    for (const [storage, computeDtype] of [["F16", "storage"], ["F32", "F16"]] as const) {
      const dir = mkdtempSync(path.join(root, "f16-model-scope-"));
      const base = writeModel(dir, "base.safetensors", storage, [["a.weight", [0, 0, 0, 0]]]);
      const sft = writeModel(dir, "sft.safetensors", storage, [["a.weight", [0.5, -0.25, 1, 0.125]]]);
      const ct = writeModel(dir, "ct.safetensors", storage, [["a.weight", [-1, 0.5, 1, -0.25]]]);
      const native = await nativeOutput(svRequest(dir, base, sft, ct, { computeDtype }), ["a.weight"]);
      assert.deepEqual(native, { "a.weight": [-1, 0.5, 1, 0.125] }, `${storage} storage, computeDtype ${computeDtype}`);
    }
  });

  /**
   * task_arithmetic replaces a weight sum with |sum| < 1e-8 by 1. mergekit's
   * `divisor[divisor.abs() < 1e-8] = 1` compares a float32 tensor with a Python scalar, which
   * torch casts to the tensor's dtype: the engine (`fabs(wsum) < 1e-8f`) and the reference
   * (DIVISOR_EPSILON) compare in f32. A weight sum of exactly fround(1e-8) (< 1e-8 in float64)
   * is therefore kept as the divisor.
   */
  test("task_arithmetic, weight sum exactly fround(1e-8), normalize, f32 compute", async () => {
    const dir = mkdtempSync(path.join(root, "ta-divisor-"));
    const base = writeModel(dir, "base.safetensors", "F32", [["w", [1, 2]]]);
    const m = writeModel(dir, "m.safetensors", "F32", [["w", [1.5, 1]]]);
    const outDir = path.join(dir, "out");
    mkdirSync(outDir);
    const native = await nativeOutput(
      { method: "task_arithmetic", consensus: "sum", normalize: true, lambda: 1, computeDtype: "F32", outDtype: "F32", slack: 0, slackScope: "model", rescale: false, seed: 0, randomStream: "counter", tieOrder: "mergekit", keepIfNoOutliers: false, t: 0, filterWise: false, densities: null, basePath: base, models: [{ path: m, weight: 1e-8, density: 1, favored: false, gamma: 0.01, epsilon: 0.15 }], outDir, shardSizeBytes: 1e12, threads: 1 },
      ["w"],
    );
    const reference = [...taskArithmetic(vec([1, 2]), [{ tensor: vec([1.5, 1]), weight: 1e-8 }], { dtype: "F32", mode: "f32", normalize: true })];
    // 1 + (1e-8f * 0.5) / 1e-8f = 1.5 and 2 + (1e-8f * -1) / 1e-8f = 1 (a divisor of 1 would give [1, 2]).
    assert.deepEqual(native.w, [1.5, 1]);
    assert.deepEqual(reference, native.w);
  });

  /**
   * linear + normalize is rejected when the weights sum to 0 in the compute dtype. With
   * computeDtype "storage" that dtype is each tensor's own: F16 weights [-0.3, -0.5, 0.8] sum to
   * exactly 0 in F32 but to -2^-12 in F16, so an F16 tensor merges (dividing by -2^-12, as torch
   * would in f16) and the up-front F32 check must not reject the request.
   */
  test("linear, normalize, F16 storage compute, weights whose sum is 0 in F32 but not in F16", async () => {
    const dir = mkdtempSync(path.join(root, "linear-sum-"));
    const values = [[0.001, 0.002], [0.003, 0.004], [0.005, 0.006]];
    const weights = [-0.3, -0.5, 0.8];
    const files = values.map((v, i) => writeModel(dir, `m${i}.safetensors`, "F16", [["w", v]]));
    const outDir = path.join(dir, "out");
    mkdirSync(outDir);
    const reference = linear(values.map((v, i) => ({ tensor: vec(v.map((x) => roundTo("F16", x))), weight: weights[i]! })), { dtype: "F16", mode: "native", normalize: true });
    const native = await nativeOutput(
      { method: "linear", consensus: "sum", normalize: true, lambda: 1, computeDtype: "storage", outDtype: null, slack: 0, slackScope: "model", rescale: false, seed: 0, randomStream: "counter", tieOrder: "mergekit", keepIfNoOutliers: false, t: 0, filterWise: false, densities: null, basePath: null, models: files.map((p, i) => ({ path: p, weight: weights[i]!, density: 1, favored: false, gamma: 0.01, epsilon: 0.15 })), outDir, shardSizeBytes: 1e12, threads: 1 },
      ["w"],
    );
    assert.deepEqual(native.w, [...reference]);
  });

  /**
   * ties_sv breaks equal margins by tensor name in code point order = UTF-8 byte order (Python's
   * sorted(), and the order of NativeMergeResult.tensors), which differs from JS's default
   * UTF-16 sort for a character beyond U+FFFF vs one in U+E000..U+FFFF at the same position:
   * "x\uFFFD" < "x\u{1F600}" in code points, the reverse in UTF-16 code units.
   */
  test("ties_sv margin tie broken by a name beyond the BMP", async () => {
    const dir = mkdtempSync(path.join(root, "names-"));
    const [n1, n2] = ["x\uFFFD", "x\u{1F600}"];
    const write = (file: string, v: number[]) => writeModel(dir, file, "F32", [[n1, v], [n2, v]]);
    // Each tensor: one candidate (index 0, margin 0.5); nnz(favored) = 2, slack 0.5 -> R = 1.
    const request = svRequest(dir, write("base.safetensors", [0, 0]), write("sft.safetensors", [1, 0]), write("ct.safetensors", [-1.5, 0]), { slack: 0.5, computeDtype: "F32", outDtype: "F32" });
    const native = await nativeOutput(request, [n1, n2]);
    const input = { base: vec([0, 0]), models: [{ tensor: vec([1, 0]), weight: 1, density: 1 }, { tensor: vec([-1.5, 0]), weight: 1, density: 1 }] };
    const ref = tiesSvModel(new Map([[n1, input], [n2, input]]), { dtype: "F32", mode: "f32", favored: 0, slack: 0.5 });
    // The one reserved position goes to "x\uFFFD" (first in code point order): [1, 0]; "x😀" keeps the election.
    assert.deepEqual(native, { [n1]: [1, 0], [n2]: [-1.5, 0] });
    assert.deepEqual({ [n1]: [...ref.tensors.get(n1)!.merged], [n2]: [...ref.tensors.get(n2)!.merged] }, native);
  });
});

// ---------------------------------------------------------------------------------------
// The random cases must keep exercising what they are meant to (guards against a generator
// change silently making them trivial). Runs after the random tests (same file, in order).

const MUST_COVER = [
  "method:linear", "method:task_arithmetic", "method:ties", "method:ties_sv",
  "method:breadcrumbs", "method:breadcrumbs_ties", "method:dare_linear", "method:dare_ties", "method:slerp", "method:model_stock",
  "method:della", "method:della_linear", "della rescaled", "della stream position > 0",
  "breadcrumbs dropped a task vector (n_top == 0)", "breadcrumbs kept nothing below the outliers", "dare rescaled",
  "breadcrumbs threshold ties split (mergekit)", "breadcrumbs threshold ties split (index)",
  "consensus:sum", "consensus:count",
  "dtype:F32/native", "dtype:F32/f32", "dtype:F16/native", "dtype:F16/f32", "dtype:BF16/native", "dtype:BF16/f32",
  "models:2", "models:3", "negative weight", "lambda != 1", "normalize:true", "normalize:false",
  "density:0.01", "density:0.2", "density:0.5", "density:1", "density:0",
  "ties_sv:model slack=0", "ties_sv:tensor slack=0", "ties_sv:model slack=0.05", "ties_sv:tensor slack=0.3",
  "empty tensor [0]", "empty tensor [0,4]", "1-element tensor", "tensor > one 64Ki chunk",
  "trimmed with k = 0", "threshold 0 (k > nnz)", "some threshold ties kept (mergekit order)", "some threshold ties kept (index order)",
  "some threshold ties kept, tensor > one chunk (mergekit order)", "some threshold ties kept, tensor > one chunk (index order)",
  "discardedL1 > 0", "sign conflicts",
  "positions without contributor", "negative majority",
  "ties_sv reserved > 0", "ties_sv budget < candidates", "ties_sv cutoff tie split (model scope)",
  "ties_sv cutoff tie split (tensor scope)", "ties_sv cutoff tie split across tensors (name order)",
  "ties_sv F32 boundary bucket refined (model scope)", "ties_sv F32 boundary bucket refined (tensor scope)",
];

test("the random cases covered every situation they are meant to", (t) => {
  if (casesRun === 0) return t.skip("random cases were filtered out");
  t.diagnostic(`${casesRun} random cases; coverage: ${JSON.stringify(Object.fromEntries([...coverage].sort()))}`);
  const missing = MUST_COVER.filter((f) => !coverage.has(f));
  assert.deepEqual(missing, [], "situations no random case exercised");
});
