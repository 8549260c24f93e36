// Loading the golden merge cases (test/fixtures/golden, see its README) for the reference tests.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import assert from "node:assert/strict";
import { f32Bits, isFloatDType, type FloatDType } from "@/server/engine/dtype";
import { readSafetensors } from "@/test/support/safetensors";
import type { RefTensor } from "@/test/reference";

export const GOLDEN_DIR = path.join(process.cwd(), "test/fixtures/golden");

export interface GoldenModelStats {
  k?: number | null;
  threshold?: number;
  threshold_f32_hex?: string;
  n_greater_than_threshold?: number;
  n_equal_to_threshold?: number;
  n_kept_at_threshold?: number;
  nnz_trimmed: number;
  nnz_trimmed_unambiguous_positions: number;
  n_discarded_by_sign_election: number;
  n_discarded_by_sign_election_unambiguous_positions: number;
  n_contributing: number;
  // breadcrumbs cases (instead of k / threshold):
  n_bot_removed?: number;
  n_top_removed?: number;
  /** Kept ranks in ascending |delta| order: [first, end). */
  kept_rank_range?: [number, number];
  lower_cut?: { last_dropped: number; first_kept: number };
  upper_cut?: { last_kept: number; first_dropped: number };
}

export interface GoldenTensorStats {
  numel: number;
  n_ambiguous_positions: number;
  sign_conflicts: number;
  sign_conflicts_unambiguous_positions: number;
  n_positions_no_contributor: number;
  n_majority_negative?: number; // absent without an election (breadcrumbs)
  models: Record<string, GoldenModelStats>;
}

export interface GoldenCase {
  id: string;
  kind?: GoldenKind;
  method: string;
  consensus: "sum" | "count" | null;
  storage_dtype: FloatDType;
  base: string | null;
  models: { role: string; file: string; weight: number; density?: number; gamma?: number; epsilon?: number }[];
  parameters_effective: { normalize?: boolean; lambda?: number; t?: number; filter_wise?: boolean; rescale?: boolean };
  /** della: the seed drawn before each tensor. */
  randomness?: { seed: number };
  /** tie_order cases whose F32-compute result equals the storage-dtype one (only expected_native is stored). */
  float32_vs_native_identical?: boolean;
  tensors: Record<string, { shape: number[]; is_embed: boolean; stats?: GoldenTensorStats; stats_native_compute?: GoldenTensorStats }>;
}

export interface GoldenIndexEntry {
  id: string;
  method: string;
  /** Second batch: `tensor` (the layout above; absent in the first batch), `cli` (whole models, test/unit/engine-api/golden-cli.ts) or `tie_order`. */
  kind?: string;
  exactness?: string;
}

export function goldenIndex(): GoldenIndexEntry[] {
  return (JSON.parse(readFileSync(path.join(GOLDEN_DIR, "index.json"), "utf8")) as { cases: GoldenIndexEntry[] }).cases;
}

/**
 * Case kinds (index.json `kind`): "tensor" (per-tensor cases; the first batch has no `kind`),
 * "tie_order" (exact including the top-k tie order) and "cli" (whole models with recipes).
 */
export type GoldenKind = "tensor" | "tie_order" | "cli";

export function goldenCaseIds(methods: readonly string[], kinds: readonly GoldenKind[] = ["tensor"]): string[] {
  const index = JSON.parse(readFileSync(path.join(GOLDEN_DIR, "index.json"), "utf8")) as { cases: { id: string; method: string; kind?: GoldenKind }[] };
  return index.cases.filter((c) => methods.includes(c.method) && kinds.includes(c.kind ?? "tensor")).map((c) => c.id);
}

export function loadCase(id: string): GoldenCase {
  const c = JSON.parse(readFileSync(path.join(GOLDEN_DIR, id, "case.json"), "utf8")) as GoldenCase;
  if (!isFloatDType(c.storage_dtype)) throw new Error(`${id}: unexpected storage dtype ${c.storage_dtype}`);
  return c;
}

/** All tensors of one safetensors file in the case directory, or null if it does not exist. */
export function loadTensors(id: string, file: string): Map<string, RefTensor> | null {
  const p = path.join(GOLDEN_DIR, id, file);
  if (!existsSync(p)) return null;
  const st = readSafetensors(p);
  return new Map(st.tensorNames().map((n) => [n, { shape: st.info(n).shape, data: st.readFloat32(n) }]));
}

export function loadMask(id: string, file = "ambiguous_mask.safetensors"): Map<string, Uint8Array> | null {
  const p = path.join(GOLDEN_DIR, id, file);
  if (!existsSync(p)) return null;
  const st = readSafetensors(p);
  return new Map(st.tensorNames().map((n) => [n, st.readTensor(n).bytes]));
}

export function hex(x: number): string {
  return f32Bits(x).toString(16).padStart(8, "0");
}

/** Positions whose bits differ, ignoring positions where mask === 1. */
export function countBitDifferences(actual: Float32Array, expected: Float32Array, mask: Uint8Array | undefined): number {
  assert.equal(actual.length, expected.length);
  let differ = 0;
  for (let j = 0; j < expected.length; j++) {
    if (mask?.[j] === 1) continue;
    if (f32Bits(actual[j]!) !== f32Bits(expected[j]!)) differ++;
  }
  return differ;
}
