// Figure 2's saturation readout: where a score series stops improving along the CT tokens,
// and whether the SFT model's discard rate (the merges' own sign election) kept rising
// after it — the paper's §6 question, answered per series. Pure.

/** Gains of at most this many score points (the chart's unit, usually %) count as no improvement. */
export const SATURATION_TOLERANCE = 0.5;

export interface SaturationInput {
  key: string;
  label: string;
  /** Ascending tokens. `discardPct`: the SFT discard rate of the merge at that point (null for CT series or unknown). */
  points: { tokensB: number; value: number; discardPct: number | null }[];
}

export interface Saturation {
  key: string;
  label: string;
  /** The first checkpoint whose score no later checkpoint beats by more than the tolerance (null: still improving at the last one, or < 3 points). */
  tokensB: number | null;
  value: number | null;
  /** The SFT discard rate there and at the last checkpoint; keptRising: it grew after the score stopped improving. */
  discardAt: number | null;
  discardLast: number | null;
  discardKeptRising: boolean | null;
}

export function saturationOf(s: SaturationInput, tolerance = SATURATION_TOLERANCE): Saturation {
  const none = { key: s.key, label: s.label, tokensB: null, value: null, discardAt: null, discardLast: null, discardKeptRising: null };
  const pts = s.points;
  if (pts.length < 3) return none;
  // The earliest point i with max(later values) <= value_i + tolerance, excluding the last point (nothing after it to judge).
  for (let i = 0; i < pts.length - 1; i++) {
    const laterBest = Math.max(...pts.slice(i + 1).map((p) => p.value));
    if (laterBest <= pts[i]!.value + tolerance) {
      const at = pts[i]!;
      const last = pts.at(-1)!;
      const rising = at.discardPct !== null && last.discardPct !== null ? last.discardPct > at.discardPct : null;
      return { key: s.key, label: s.label, tokensB: at.tokensB, value: at.value, discardAt: at.discardPct, discardLast: last.discardPct, discardKeptRising: rising };
    }
  }
  return none;
}
