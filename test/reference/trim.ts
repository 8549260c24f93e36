// TIES "trim": keep the k entries of largest magnitude, zero the rest.
// k = trunc(density * numel) computed in float64 (so int(0.29 * 100) = 28, as in Python);
// density >= 1 keeps the task vector whole; k = 0 keeps nothing.
// Entries tied in magnitude at the threshold are kept lowest flat index first: the
// golden data leaves that choice open, and a fixed rule makes the reference deterministic.

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

/**
 * Flat indices ranked by |delta| descending, ties broken by lowest flat index first; NaN ranks
 * above +inf (docs/merge-methods.md). Shared by every magnitude-based sparsifier.
 */
export function magnitudeOrder(delta: Float32Array): number[] {
  // NaN compares false with everything, so rank it with a key above +inf instead.
  const key = (j: number) => {
    const m = Math.abs(delta[j]!);
    return Number.isNaN(m) ? 2 : m === Infinity ? 1 : 0;
  };
  const order = Array.from({ length: delta.length }, (_, i) => i);
  order.sort((a, b) => key(b) - key(a) || (key(a) === 0 ? Math.abs(delta[b]!) - Math.abs(delta[a]!) : 0) || a - b);
  return order;
}

export function trimCount(density: number, numel: number): number {
  return Math.trunc(density * numel);
}

export function magnitudeTrim(delta: Float32Array, density: number): { trimmed: Float32Array; info: TrimInfo } {
  const numel = delta.length;
  const untouched = { density, numel, k: null, threshold: null, nGreaterThanThreshold: null, nEqualToThreshold: null, nKeptAtThreshold: null };
  if (density >= 1) return { trimmed: delta.slice(), info: untouched };

  const k = Math.max(0, trimCount(density, numel));
  const trimmed = new Float32Array(numel);
  if (k === 0) return { trimmed, info: { ...untouched, k: 0 } };

  const order = magnitudeOrder(delta);
  for (let r = 0; r < k; r++) trimmed[order[r]!] = delta[order[r]!]!;

  const threshold = Math.abs(delta[order[k - 1]!]!);
  let nGreater = 0;
  let nEqual = 0;
  for (const v of delta) {
    const m = Math.abs(v);
    if (m > threshold) nGreater++;
    else if (m === threshold) nEqual++;
  }
  return {
    trimmed,
    info: { density, numel, k, threshold, nGreaterThanThreshold: nGreater, nEqualToThreshold: nEqual, nKeptAtThreshold: k - nGreater },
  };
}
