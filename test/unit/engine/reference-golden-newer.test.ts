// The TypeScript references of sce, nuslerp, multislerp, karcher, arcee_fusion and nearswap
// (test/reference) against the golden cases mergekit 0.1.4 produced: the oracle the native
// differential test trusts is itself checked against mergekit. Tolerances as in
// native/tests/test_golden_methods.cc: 16-bit compute and nearswap bit-exact (sce with
// torch.topk's tie order: every position, ambiguous ones included); float32 compute
// within max(7.5e-9, 1 ULP) (F32 output) or 1 ULP (16-bit output); arcee_fusion's float32
// mask may differ only within 3% of the float64 threshold (torch's KL rounding noise).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { f32Bits, roundTo } from "@/server/engine/dtype";
import type { StorageDtype } from "@/server/engine/types";
import { arceeFusion, arceeImportance64, karcher, multislerp, nearswap, nuslerp, sce, type ComputeMode, type RefTensor } from "@/test/reference";
import { goldenCaseIds, loadCase, loadTensors } from "./golden-fixtures";

interface NewerCase {
  id: string;
  method: string;
  storage_dtype: StorageDtype;
  base: string | null;
  models: { role: string; file: string; weight?: number }[];
  parameters_effective: Record<string, number | boolean>;
  tensors: Record<string, { shape: number[]; stats?: { k?: number; threshold?: number }; stats_native_compute?: { k?: number; threshold?: number } }>;
}

function run(c: NewerCase, mode: ComputeMode, name: string): { merged: Float32Array; k?: number | null; threshold?: number | null } {
  const base = c.base ? loadTensors(c.id, c.base)!.get(name)! : null;
  const models = c.models.map((m) => loadTensors(c.id, m.file)!.get(name)! as RefTensor);
  const p = { dtype: c.storage_dtype, mode };
  const pe = c.parameters_effective;
  switch (c.method) {
    case "sce": {
      const r = sce(base!, models, { ...p, selectTopk: pe.select_topk as number });
      return { merged: r.merged, k: r.k, threshold: r.threshold };
    }
    case "nuslerp":
      return nuslerp(base, models[0]!, models[1]!, {
        ...p,
        weights: [c.models[0]!.weight!, c.models[1]!.weight!],
        flatten: pe.nuslerp_flatten as boolean,
        rowWise: pe.nuslerp_row_wise as boolean,
      });
    case "multislerp":
      return { merged: multislerp(base, models, { ...p, weights: c.models.map((m) => m.weight!), normalizeWeights: pe.normalize_weights as boolean, eps: pe.eps as number }) };
    case "karcher":
      return karcher(base, models, { ...p, maxIter: pe.max_iter as number, tol: pe.tol as number });
    case "arcee_fusion":
      return arceeFusion(base!, models[0]!, p);
    case "nearswap":
      return nearswap(base!, models[0]!, { ...p, t: pe.t as number });
  }
  throw new Error(`not a newer method: ${c.method}`);
}

function ulp(x: number, d: StorageDtype): number {
  const mant = d === "BF16" ? 7 : d === "F16" ? 10 : 23;
  const e = x === 0 ? -126 : Math.floor(Math.log2(Math.abs(x)));
  return 2 ** (Math.max(e, -126) - mant);
}

describe("TypeScript references of the newer methods vs mergekit's golden cases", () => {
  for (const id of goldenCaseIds(["sce", "nuslerp", "multislerp", "karcher", "arcee_fusion", "nearswap"])) {
    const c = loadCase(id) as unknown as NewerCase;
    const modes: ComputeMode[] = c.storage_dtype === "F32" ? ["f32"] : ["f32", "native"];
    for (const mode of modes) {
      it(`${id} (${mode === "f32" ? "expected" : "expected_native"})`, () => {
        const expected = loadTensors(c.id, mode === "f32" ? "expected.safetensors" : "expected_native.safetensors")!;
        for (const [name, meta] of Object.entries(c.tensors)) {
          const r = run(c, mode, name);
          const want = expected.get(name)!.data;
          // arcee_fusion's native result is float32, the others are in the storage dtype
          const outDtype: StorageDtype = c.method === "arcee_fusion" && mode === "native" ? "F32" : c.storage_dtype;
          const exact = mode === "native" || c.method === "nearswap";
          const near = c.method === "arcee_fusion" && mode === "f32" ? arceeImportance64(c.base ? loadTensors(c.id, c.base)!.get(name)! : null!, loadTensors(c.id, c.models[0]!.file)!.get(name)!) : null;
          let bad = 0;
          let flips = 0;
          for (let j = 0; j < want.length; j++) {
            const got = roundTo(outDtype, r.merged[j]!);
            if (f32Bits(got) === f32Bits(want[j]!)) continue;
            const diff = Math.abs(got - want[j]!);
            const ok = !exact && (outDtype === "F32" ? diff <= Math.max(7.5e-9, ulp(want[j]!, "F32")) : diff <= ulp(want[j]!, outDtype));
            if (ok) continue;
            if (near && Math.abs(near.importance[j]! - near.threshold) <= 0.03 * Math.abs(near.threshold)) flips++;
            else bad++;
          }
          assert.equal(bad, 0, `${name}: ${bad} of ${want.length} values outside the tolerance`);
          assert.ok(flips * 200 <= want.length, `${name}: ${flips} near-threshold mask flips`);
          const stats = mode === "f32" ? meta.stats : meta.stats_native_compute;
          if (c.method === "sce" && stats?.k !== undefined) {
            assert.equal(r.k, stats.k, `${name} k`);
            assert.equal(r.threshold, stats.threshold, `${name} threshold`);
          }
        }
      });
    }
  }
});
