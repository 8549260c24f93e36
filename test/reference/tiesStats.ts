// Per-tensor statistics of a TIES election: how much of each model survives trimming and
// the sign election. These are what the UI charts (paper Figures 3-4) and what the native
// engine's own counters are checked against.
import type { WeightedTaskVectors } from "./ties";

export interface TiesModelStats {
  k: number | null;
  threshold: number | null;
  nGreaterThanThreshold: number | null;
  nEqualToThreshold: number | null;
  nKeptAtThreshold: number | null;
  /** Non-zero entries of the trimmed task vector. */
  nnzTrimmed: number;
  /** Non-zero trimmed entries that do not carry the elected sign (dropped by the election). */
  discarded: number;
  /** Sum of |trimmed delta| over the discarded entries (float64). */
  discardedL1: number;
  /** TIES-SV: entries that would have been discarded but were reserved by the slack variable. */
  rescued: number;
  /** Entries that carry the elected sign and enter the merge. */
  contributing: number;
  /** Non-zero trimmed entries at sign-conflict positions. */
  inConflict: number;
  /** Sign-conflict positions where this model's (weighted) sign is the elected one. */
  conflictsWon: number;
}

export interface TiesTensorStats {
  numel: number;
  /** Positions where the trimmed, unweighted task vectors hold both a positive and a negative entry. */
  signConflicts: number;
  /** Positions where no model contributes (output = base there). */
  noContributor: number;
  /** Positions whose elected sign is -1 (0 without an election). */
  majorityNegative: number;
  models: TiesModelStats[];
}

export interface TiesStatsOptions {
  /** Positions with skip[j] === 1 are left out of every position count (golden "unambiguous" variants). */
  skip?: Uint8Array;
  /** Per model, how many entries TIES-SV rescued (default 0). */
  rescued?: readonly number[];
}

/**
 * `elected` null = no election (breadcrumbs, dare_linear): an entry contributes iff its weighted
 * value is non-zero, and nothing is discarded.
 */
export function tiesStats(vectors: WeightedTaskVectors, elected: Int8Array | null, options: TiesStatsOptions = {}): TiesTensorStats {
  const { trimmed, weighted, numel } = vectors;
  const models: TiesModelStats[] = vectors.trims.map((t, i) => ({
    k: t.k,
    threshold: t.threshold,
    nGreaterThanThreshold: t.nGreaterThanThreshold,
    nEqualToThreshold: t.nEqualToThreshold,
    nKeptAtThreshold: t.nKeptAtThreshold,
    nnzTrimmed: 0,
    discarded: 0,
    discardedL1: 0,
    rescued: options.rescued?.[i] ?? 0,
    contributing: 0,
    inConflict: 0,
    conflictsWon: 0,
  }));
  let signConflicts = 0;
  let noContributor = 0;
  let majorityNegative = 0;
  for (let j = 0; j < numel; j++) {
    if (options.skip?.[j] === 1) continue;
    const conflict = trimmed.some((t) => t[j]! > 0) && trimmed.some((t) => t[j]! < 0);
    let contributors = 0;
    models.forEach((s, i) => {
      const delta = trimmed[i]![j]!;
      const w = weighted[i]![j]!;
      const contributes = elected === null ? w !== 0 : (w > 0 ? 1 : w < 0 ? -1 : 0) === elected[j];
      if (contributes) {
        s.contributing++;
        contributors++;
      }
      if (delta === 0) return;
      s.nnzTrimmed++;
      if (!contributes && elected !== null) {
        s.discarded++;
        s.discardedL1 += Math.abs(delta);
      }
      if (conflict) {
        s.inConflict++;
        if (contributes) s.conflictsWon++;
      }
    });
    if (conflict) signConflicts++;
    if (contributors === 0) noContributor++;
    if (elected?.[j] === -1) majorityNegative++;
  }
  return { numel, signConflicts, noContributor, majorityNegative, models };
}
