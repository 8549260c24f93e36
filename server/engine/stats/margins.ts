// TIES-SV's lost-election margins in the statistics report (native/core/merge_kernels.h "Lost-election
// margins"; README "Lost-election margins"). A candidate is a position where the favored (SFT) model's
// weighted, trimmed entry is non-zero and loses the sign election; its margin is |s|, the election
// sum there (native F16/BF16: rounded to the dtype) -- the value the slack reserve ranks by. The
// engine counts every candidate, and the reserved ones, in fixed bins:
//   bin 0: margin 0;  bin 1: (0, E_0);  bin 2 + e: [E_e, E_{e+1});  bin 62: >= E_60, inf, NaN
// with the edges E_0..E_60 = 1e-9 .. 1e1 (6 per decade) that the engine reports with the counts.
import type { NativeMargins } from "../types";

export const MARGIN_BINS = 63;

export interface MarginHistogram {
  /** E_0 .. E_60: bin 2 + e holds margins in [edges[e], edges[e + 1]). */
  edges: number[];
  /** Per bin: the favored model's candidates (lost elections) and the reserved ones among them. */
  candidates: number[];
  reserved: number[];
  n_candidates: number;
  n_reserved: number;
  /**
   * The slack cut (model scope with a budget > 0; null otherwise): every candidate with a margin
   * below it was reserved, and `taken_at_cut` of the `at_cut` candidates whose margin equals it.
   */
  cut: number | null;
  at_cut: number | null;
  taken_at_cut: number | null;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function marginsOf(native: NativeMargins | null | undefined): MarginHistogram | null {
  if (!native) return null;
  return {
    edges: [...native.edges],
    candidates: [...native.candidates],
    reserved: [...native.reserved],
    n_candidates: sum(native.candidates),
    n_reserved: sum(native.reserved),
    cut: native.cut,
    at_cut: native.atCut,
    taken_at_cut: native.takenAtCut,
  };
}

/** Bin b's margin range [lo, hi) (bin 0: [0, 0]; the last bin: [E_60, Infinity)). */
export function marginBinRange(edges: readonly number[], b: number): { lo: number; hi: number } {
  if (b === 0) return { lo: 0, hi: 0 };
  if (b === 1) return { lo: 0, hi: edges[0]! };
  const e = b - 2;
  return { lo: edges[e]!, hi: e + 1 < edges.length ? edges[e + 1]! : Number.POSITIVE_INFINITY };
}

/** The bin of a margin value, as the engine bins it (NaN and values >= the last edge: the last bin). */
export function marginBinOf(edges: readonly number[], margin: number): number {
  if (margin === 0) return 0;
  if (margin < edges[0]!) return 1;
  let e = 0;
  while (e + 1 < edges.length && margin >= edges[e + 1]!) e++;
  return Number.isNaN(margin) ? MARGIN_BINS - 1 : 2 + e;
}
