// The distribution of the SFT model's lost-election margins at the compare page's checkpoint and
// densities (issue #16, "TIES vs TIES-SV visually"), from the TIES-SV analysis the page compares:
// its candidates are exactly the positions where the SFT entry loses TIES's sign election at the
// same densities (the trims and the election are TIES's; the slack acts after it), so one
// histogram shows what TIES discards and, stacked, what the slack cut rescued. The engine's bins
// are fixed (server/engine/stats/margins.ts); the chart keeps the zero bin when it is non-empty and
// the positive bins from the first to the last non-empty one.
import { marginBinOf, marginBinRange, type MarginHistogram } from "../../engine/stats/margins";
import type { MarginChart } from "./schemas";

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const fmt = (x: number) => (x === 0 ? "0" : x.toExponential(2));

/** Bin label: "0", "< 1.00e-9", "[1.00e-4, 1.47e-4)", "≥ 1.00e+1". */
function binLabel(edges: readonly number[], b: number): string {
  const { lo, hi } = marginBinRange(edges, b);
  if (b === 0) return "0";
  if (b === 1) return `< ${fmt(hi)}`;
  if (!Number.isFinite(hi)) return `≥ ${fmt(lo)}`;
  return `[${fmt(lo)}, ${fmt(hi)})`;
}

export function marginChart(
  margins: MarginHistogram | null | undefined,
  side: { analysisId: string; slack: number | null; slackScope: string | null; slackBudget: number | null } | null,
): MarginChart | null {
  if (!margins || !side) return null;
  const { edges, candidates, reserved } = margins;
  // Margin 0 (elections tied at 0, reserved first) is its own category: the positive bins start at
  // the first non-empty one, so a zero bin does not stretch the axis over empty decades.
  const positive = candidates.map((c, b) => (b > 0 && c > 0 ? b : -1)).filter((b) => b > 0);
  const shown = [...(candidates[0]! > 0 ? [0] : []), ...(positive.length ? range(positive[0]!, positive.at(-1)!) : [])];
  const bins = shown.map((b) => {
    const { lo, hi } = marginBinRange(edges, b);
    const c = candidates[b] ?? 0;
    const r = reserved[b] ?? 0;
    return { bin: b, label: binLabel(edges, b), lo, hi: Number.isFinite(hi) ? hi : null, candidates: c, reserved: r, notReserved: c - r };
  });
  const cutBin = margins.cut === null ? null : marginBinOf(edges, margins.cut);
  return {
    analysisId: side.analysisId,
    slack: side.slack,
    slackScope: side.slackScope,
    slackBudget: side.slackBudget,
    nCandidates: margins.n_candidates,
    nReserved: margins.n_reserved,
    cut: margins.cut,
    atCut: margins.at_cut,
    takenAtCut: margins.taken_at_cut,
    cutBin,
    bins,
  };
}
