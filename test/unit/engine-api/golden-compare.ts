// Comparing a merged model with a golden expected file, with the tolerances of
// test/fixtures/golden/README.md ("Tolerances"). Merges in mergekit's tie order (the default)
// must match at every position, ambiguous_mask included, and their counts exactly; with the
// index tie order the ambiguous positions are skipped and counts may differ by
// n_ambiguous_positions.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { writeSafetensors } from "@/server/engine/safetensors";
import type { TieOrder } from "@/server/engine/types";
import { arceeImportance64 } from "@/test/reference";
import { openCheckpoint, readSafetensors, type RawTensor } from "@/test/support/safetensors";
import type { StatsReport } from "@/server/engine/stats";
import { loadMask, loadTensors, type GoldenTensorStats } from "../engine/golden-fixtures";
import { caseDir, type GoldenCaseFull } from "./helpers";

/** Float bits mapped to integers that are adjacent for adjacent floats (ULP distance = difference). */
function orderedBits(t: RawTensor): Int32Array | Float64Array {
  const bytes = t.bytes;
  if (t.dtype === "F32") {
    const u = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    return Float64Array.from(u, (b) => (b & 0x80000000 ? -(b & 0x7fffffff) : b));
  }
  const u = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  return Int32Array.from(u, (b) => (b & 0x8000 ? -(b & 0x7fff) : b));
}

export interface Tolerance {
  ulp: number;
  /** Absolute tolerance also accepted (F32 values near 0). */
  abs: number;
}

/** The second-batch methods whose golden cases run through the Node API and the CLI. */
export const NEWER_GOLDEN_METHODS = ["sce", "nuslerp", "multislerp", "karcher", "arcee_fusion", "nearswap"];

export function toleranceFor(storage: string, expectedFile: string): Tolerance {
  if (expectedFile === "expected_native.safetensors") return { ulp: 0, abs: 0 };
  return storage === "F32" ? { ulp: 4, abs: 1e-7 } : { ulp: 1, abs: 0 };
}

/**
 * arcee_fusion with float32 compute: positions whose float64 importance lies within 3% of the
 * float64 threshold, where torch's float32 KL noise (~1%, up to 1.6% in the golden cases) can
 * decide the mask either way (docs/merge-methods.md). null for every other case.
 */
function nearThresholdPositions(c: GoldenCaseFull, expectedFile: string): Map<string, Uint8Array> | null {
  if (c.method !== "arcee_fusion" || expectedFile !== "expected.safetensors") return null;
  const base = loadTensors(c.id, "base.safetensors")!;
  const model = loadTensors(c.id, c.models[0]!.file)!;
  const out = new Map<string, Uint8Array>();
  for (const [name, b] of base) {
    const { importance, threshold } = arceeImportance64(b, model.get(name)!);
    out.set(name, Uint8Array.from(importance, (v) => (Math.abs(v - threshold) <= 0.03 * Math.abs(threshold) ? 1 : 0)));
  }
  return out;
}

/** Asserts every tensor of the output (or just `only`) matches the expected file (dtype, shape, values). */
export function assertMatchesExpected(c: GoldenCaseFull, outDir: string, expectedFile: string, tieOrder: TieOrder = "mergekit", only?: string): void {
  const expected = readSafetensors(path.join(caseDir(c.id), expectedFile));
  const actual = openCheckpoint(outDir);
  const mask = tieOrder === "mergekit" ? null : loadMask(c.id);
  const near = nearThresholdPositions(c, expectedFile);
  const tol = toleranceFor(c.storage_dtype, expectedFile);
  const names = only ? [only] : expected.tensorNames();
  assert.deepEqual(actual.tensorNames().sort(), [...names].sort(), `${c.id}: tensor names`);
  for (const name of names) {
    const e = expected.readTensor(name);
    const a = actual.readTensor(name);
    const where = `${c.id} ${expectedFile} ${name}`;
    assert.equal(a.dtype, e.dtype, `${where}: dtype`);
    assert.deepEqual(a.shape, e.shape, `${where}: shape`);
    const ea = orderedBits(e);
    const aa = orderedBits(a);
    const ev = expected.readFloat32(name);
    const av = actual.readFloat32(name);
    const m = mask?.get(name);
    const nt = near?.get(name);
    let bad = 0;
    let worst = 0;
    let flips = 0;
    for (let j = 0; j < ea.length; j++) {
      if (m?.[j] === 1) continue;
      if (nt?.[j] === 1 && Math.abs(aa[j]! - ea[j]!) > tol.ulp) {
        flips++; // a near-threshold mask decision of arcee_fusion
        continue;
      }
      const ulp = Math.abs(aa[j]! - ea[j]!);
      if (ulp > tol.ulp && Math.abs(av[j]! - ev[j]!) > tol.abs) {
        bad++;
        worst = Math.max(worst, ulp);
      }
    }
    assert.equal(bad, 0, `${where}: ${bad} values outside ${tol.ulp} ULP (worst ${worst} ULP)`);
    assert.ok(flips * 200 <= ea.length, `${where}: ${flips} near-threshold mask flips (at most 0.5% allowed)`);
  }
}

/** The engine's statistics against the golden ones (README "Tolerances": ties cases). */
export function assertStatsMatchGolden(c: GoldenCaseFull, report: StatsReport, key: "stats" | "stats_native_compute", tieOrder: TieOrder = "mergekit"): void {
  for (const [name, meta] of Object.entries(c.tensors)) {
    const golden: GoldenTensorStats | undefined = meta[key] ?? meta.stats;
    if (!golden) continue;
    const t = report.tensors.find((x) => x.name === name);
    assert.ok(t, `${c.id}: no statistics for ${name}`);
    const where = `${c.id} ${key} ${name}`;
    const slack = tieOrder === "mergekit" ? 0 : golden.n_ambiguous_positions;
    const near = (actual: number, expected: number, what: string) =>
      assert.ok(Math.abs(actual - expected) <= slack, `${where} ${what}: ${actual} vs golden ${expected} (±${slack})`);
    assert.equal(t.numel, golden.numel, `${where} numel`);
    near(t.sign_conflicts, golden.sign_conflicts, "sign_conflicts");
    near(t.n_positions_no_contributor, golden.n_positions_no_contributor, "n_positions_no_contributor");
    if (golden.n_majority_negative !== undefined) near(t.n_majority_negative, golden.n_majority_negative, "n_majority_negative");
    c.models.forEach((m, i) => {
      const g = golden.models[m.role]!;
      assert.equal(t.nnz_trimmed[i], g.nnz_trimmed, `${where} ${m.role} nnz_trimmed`);
      if (g.kept_rank_range) {
        // breadcrumbs: kept = the rank range between the two cuts, threshold = smallest kept |delta|
        assert.equal(t.k[i], g.kept_rank_range[1] - g.kept_rank_range[0], `${where} ${m.role} kept`);
        assert.equal(t.threshold[i], g.lower_cut!.first_kept, `${where} ${m.role} lower cut`);
      } else if (g.k != null) {
        assert.equal(t.k[i], g.k, `${where} ${m.role} k`);
        assert.equal(t.threshold[i], g.threshold, `${where} ${m.role} threshold`);
      } else {
        assert.equal(t.threshold[i], null, `${where} ${m.role} threshold (not trimmed)`);
      }
      near(t.discarded[i]!, g.n_discarded_by_sign_election, `${m.role} discarded`);
      near(t.contributing[i]!, g.n_contributing, `${m.role} contributing`);
    });
  }
}

/** sce: k, threshold and the counts at the threshold (README "sce" statistics) exactly. */
export function assertSceStatsMatchGolden(c: GoldenCaseFull, report: StatsReport, key: "stats" | "stats_native_compute"): void {
  for (const [name, meta] of Object.entries(c.tensors)) {
    const g = (meta as unknown as Record<string, { k?: number; threshold?: number } | undefined>)[key] ?? (meta as unknown as Record<string, { k?: number; threshold?: number } | undefined>).stats;
    if (!g) continue;
    const t = report.tensors.find((x) => x.name === name)!;
    const where = `${c.id} ${key} ${name}`;
    c.models.forEach((_, i) => {
      if (g.k === undefined) {
        assert.equal(t.threshold[i], null, `${where}: select_topk >= 1 trims nothing`);
        return;
      }
      assert.equal(t.k[i], g.k, `${where} k`);
      assert.equal(t.threshold[i], g.threshold, `${where} threshold`);
    });
  }
}

export interface ExpectedRun {
  /** The recipe: the case's YAML, or for tie_order cases the native YAML with `dtype: float32` added. */
  yaml: string;
  file: string;
  statsKey: "stats" | "stats_native_compute";
  label: string;
}

export function expectedFiles(c: GoldenCaseFull): ExpectedRun[] {
  const out: ExpectedRun[] = [];
  const has = (f: string) => existsSync(path.join(caseDir(c.id), f));
  if (c.mergekit_yaml_expected) out.push({ yaml: c.mergekit_yaml_expected, file: "expected.safetensors", statsKey: "stats", label: "mergekit_yaml_expected" });
  if (c.mergekit_yaml_native && has("expected_native.safetensors")) {
    out.push({ yaml: c.mergekit_yaml_native, file: "expected_native.safetensors", statsKey: "stats_native_compute", label: "mergekit_yaml_native" });
  }
  if (c.kind === "tie_order" && c.mergekit_yaml_native) {
    // Only the storage-dtype YAML is stored; F32 compute (written back as BF16) gives
    // expected.safetensors, or the native file when the case says both are identical.
    const file = has("expected.safetensors") ? "expected.safetensors" : c.float32_vs_native_identical ? "expected_native.safetensors" : null;
    const yaml = `${c.mergekit_yaml_native.trimEnd()}\ndtype: float32\nout_dtype: ${c.storage_dtype === "BF16" ? "bfloat16" : "float16"}\n`;
    if (file) out.push({ yaml, file, statsKey: "stats", label: "native YAML + dtype: float32" });
  }
  return out;
}

/**
 * The per-tensor DELLA cases reseed the stream before each tensor (case.json `randomness`): one
 * merge per tensor, each over copies of the inputs holding only that tensor. Returns the folder
 * (with base.safetensors, model_*.safetensors) of each tensor.
 */
export function perTensorInputs(c: GoldenCaseFull, root: string): Map<string, string> {
  const out = new Map<string, string>();
  const files = [c.base!, ...c.models.map((m) => m.file)];
  Object.keys(c.tensors).forEach((name, i) => {
    const dir = path.join(root, `tensor-${i}`);
    mkdirSync(dir, { recursive: true });
    for (const f of files) {
      const st = readSafetensors(path.join(caseDir(c.id), f));
      const t = st.readTensor(name);
      writeSafetensors(path.join(dir, f), [{ name, dtype: t.dtype as "F32" | "F16" | "BF16", shape: t.shape, data: st.readFloat32(name) }]);
    }
    out.set(name, dir);
  });
  return out;
}
