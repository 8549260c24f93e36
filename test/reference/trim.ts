// TIES "trim": keep the k entries of largest magnitude, zero the rest.
// k = trunc(density * numel) computed in float64 (so int(0.29 * 100) = 28, as in Python);
// density >= 1 keeps the task vector whole; k = 0 keeps nothing.
// Entries tied in magnitude at the threshold (TieOrder): "mergekit" keeps those torch's
// argsort(descending=True) places first -- libstdc++'s introsort over (value, index) pairs
// compared by value (introsort.ts) -- "index" the lowest flat indices.
import { f32Bits } from "@/server/engine/dtype";
import type { TieOrder } from "@/server/engine/types";
import { introsort } from "./introsort";

export interface TrimInfo {
  density: number;
  numel: number;
  /** null when density >= 1 (nothing is trimmed). */
  k: number | null;
  /** The k-th largest |delta| (null when density >= 1 or k = 0). */
  threshold: number | null;
  nGreaterThanThreshold: number | null;
  nEqualToThreshold: number | null;
  /** How many of the entries equal to the threshold were kept (k - nGreaterThanThreshold). */
  nKeptAtThreshold: number | null;
}

/** |x| as an orderable integer: the bits of |x|, every NaN one key above +inf (torch's order). */
export function magnitudeKey(x: number): number {
  const k = (f32Bits(x) & 0x7fffffff) >>> 0;
  return k > 0x7f800000 ? 0x7fc00000 : k;
}

/**
 * Flat indices ranked by |delta|, descending (ascending: smallest first, as torch.sort), NaN
 * above +inf; ties as `tieOrder` says. Shared by every magnitude-based sparsifier.
 */
export function magnitudeOrder(delta: Float32Array, tieOrder: TieOrder = "mergekit", ascending = false): number[] {
  const key = Array.from(delta, magnitudeKey);
  const order = Array.from({ length: delta.length }, (_, i) => i);
  if (tieOrder === "mergekit") {
    introsort(order, ascending ? (a, b) => key[a]! < key[b]! : (a, b) => key[a]! > key[b]!);
  } else {
    order.sort((a, b) => (ascending ? key[a]! - key[b]! : key[b]! - key[a]!) || a - b);
  }
  return order;
}

export function trimCount(density: number, numel: number): number {
  return Math.trunc(density * numel);
}

export function magnitudeTrim(delta: Float32Array, density: number, tieOrder: TieOrder = "mergekit"): { trimmed: Float32Array; info: TrimInfo } {
  const numel = delta.length;
  const untouched = { density, numel, k: null, threshold: null, nGreaterThanThreshold: null, nEqualToThreshold: null, nKeptAtThreshold: null };
  if (density >= 1) return { trimmed: delta.slice(), info: untouched };

  const k = Math.max(0, trimCount(density, numel));
  const trimmed = new Float32Array(numel);
  if (k === 0) return { trimmed, info: { ...untouched, k: 0 } };

  const order = magnitudeOrder(delta, tieOrder);
  for (let r = 0; r < k; r++) trimmed[order[r]!] = delta[order[r]!]!;

  const threshold = Math.abs(delta[order[k - 1]!]!);
  const tk = magnitudeKey(threshold);
  let nGreater = 0;
  let nEqual = 0;
  for (const v of delta) {
    const m = magnitudeKey(v);
    if (m > tk) nGreater++;
    else if (m === tk) nEqual++;
  }
  return {
    trimmed,
    info: { density, numel, k, threshold, nGreaterThanThreshold: nGreater, nEqualToThreshold: nEqual, nKeptAtThreshold: k - nGreater },
  };
}
