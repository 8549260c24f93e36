// Figures 3–4 for one density pair, picked from the already-loaded sweep
// statistics. Pure and dependency-free: the density explorer runs this in the
// browser on every slider move (no request), the unit tests run it on the server.
//
// Figure 3 (paper §6.1): of the SFT model's trimmed non-zeros (nnz_trimmed[sft]),
//   the share at sign-conflict positions whose election picks the SFT's sign
//   (conflicts_won[sft]) and the CT's sign (conflicts_won[ct]).
// Figure 4: the share of the SFT model's trimmed non-zeros dropped by the sign
//   election, discarded[sft] / nnz_trimmed[sft] — for TIES-SV after the rescue.
import type { Checkpoint, ElectionMethod, SweepPoint, SweepStats } from "./schemas";

/** The paper's densities for Figures 3–4 (k_sft = 0.2, k_ct = 1.0). */
export const PAPER_DENSITIES = { sft: 0.2, ct: 1.0 } as const;
export const PAPER_SLACK = 0.04;

/** Densities and slacks as stable keys (0.30000000000000004 → 0.3). */
export function densityKey(d: number): number {
  return Number(d.toPrecision(6));
}

export function pct(num: number, den: number): number | null {
  return den === 0 ? null : (100 * num) / den;
}

export const METHOD_LABELS: Record<string, string> = { ties: "TIES", ties_sv: "TIES-SV", sce: "SCE", della: "DELLA", linear: "WAVG", task_arithmetic: "TA" };

export function formatDensity(d: number): string {
  return String(densityKey(d));
}

/** "k=0.2/1" — SFT density / CT density. */
export function densityLabel(sft: number, ct: number): string {
  return `k=${formatDensity(sft)}/${formatDensity(ct)}`;
}

export interface Selection {
  sftDensity: number;
  ctDensity: number;
  /** TIES-SV slack; null = any (the smallest available). */
  slack: number | null;
}

export interface SweepIndex {
  byKey: Map<string, SweepPoint>;
  /** Checkpoints that can be placed on the x axis, ascending tokens. */
  checkpoints: Checkpoint[];
}

function key(method: string, checkpointId: string, sft: number, ct: number, slack: number | null): string {
  return `${method}|${checkpointId}|${densityKey(sft)}|${densityKey(ct)}|${slack === null ? "" : densityKey(slack)}`;
}

/** Built once per loaded sweep; lookups are O(1) afterwards. */
export function indexSweep(sweep: Pick<SweepStats, "points" | "checkpoints">): SweepIndex {
  const byKey = new Map<string, SweepPoint>();
  for (const p of sweep.points) {
    const k = key(p.method, p.checkpointId, p.sftDensity, p.ctDensity, p.slack);
    const prev = byKey.get(k);
    if (!prev || prev.createdAt <= p.createdAt) byKey.set(k, p);
    // TIES-SV "any slack": the smallest slack present wins.
    if (p.method === "ties_sv") {
      const anyK = key(p.method, p.checkpointId, p.sftDensity, p.ctDensity, null);
      const cur = byKey.get(anyK);
      if (!cur || (cur.slack ?? Infinity) > (p.slack ?? Infinity)) byKey.set(anyK, p);
    }
  }
  return { byKey, checkpoints: sweep.checkpoints.filter((c) => c.tokensB !== null) };
}

export function lookup(index: SweepIndex, method: ElectionMethod, checkpointId: string, sel: Selection): SweepPoint | undefined {
  return index.byKey.get(key(method, checkpointId, sel.sftDensity, sel.ctDensity, method === "ties_sv" ? sel.slack : null));
}

export interface Figure3Row {
  checkpointId: string;
  label: string;
  tokensB: number;
  analysisId: string | null;
  /** % of the SFT model's trimmed parameters. */
  electsSft: number | null;
  electsCt: number | null;
  inConflict: number | null;
  sftNnzTrimmed: number | null;
  sftConflictsWon: number | null;
  ctConflictsWon: number | null;
  sftInConflict: number | null;
}

export function figure3Rows(index: SweepIndex, sel: Selection): Figure3Row[] {
  return index.checkpoints.map((c) => {
    const p = lookup(index, "ties", c.modelId, sel);
    const nnz = p?.sft.nnzTrimmed ?? 0;
    return {
      checkpointId: c.modelId,
      label: c.label,
      tokensB: c.tokensB!,
      analysisId: p?.analysisId ?? null,
      electsSft: p ? pct(p.sft.conflictsWon, nnz) : null,
      electsCt: p ? pct(p.ct.conflictsWon, nnz) : null,
      inConflict: p ? pct(p.sft.inConflict, nnz) : null,
      sftNnzTrimmed: p ? nnz : null,
      sftConflictsWon: p?.sft.conflictsWon ?? null,
      ctConflictsWon: p?.ct.conflictsWon ?? null,
      sftInConflict: p?.sft.inConflict ?? null,
    };
  });
}

export interface Figure4Row {
  checkpointId: string;
  label: string;
  tokensB: number;
  tiesAnalysisId: string | null;
  svAnalysisId: string | null;
  /** discarded[sft] / nnz_trimmed[sft] in %, TIES. */
  ties: number | null;
  /** The same after TIES-SV's rescue. */
  tiesSv: number | null;
  tiesDiscarded: number | null;
  tiesNnzTrimmed: number | null;
  svDiscarded: number | null;
  svNnzTrimmed: number | null;
  svRescued: number | null;
  svSlack: number | null;
  /** SCE at select_topk = both densities (sce trims every model alike): discarded[sft] / nnz_trimmed[sft] in %. */
  sceAnalysisId: string | null;
  sce: number | null;
  sceDiscarded: number | null;
  sceNnzTrimmed: number | null;
  /** DELLA at the same densities (one draw of its random keep masks): discarded[sft] / nnz_trimmed[sft] in %. */
  dellaAnalysisId: string | null;
  della: number | null;
  dellaDiscarded: number | null;
  dellaNnzTrimmed: number | null;
}

export function figure4Rows(index: SweepIndex, sel: Selection): Figure4Row[] {
  return index.checkpoints.map((c) => {
    const t = lookup(index, "ties", c.modelId, sel);
    const s = lookup(index, "ties_sv", c.modelId, sel);
    const e = lookup(index, "sce", c.modelId, sel);
    const d = lookup(index, "della", c.modelId, sel);
    return {
      checkpointId: c.modelId,
      label: c.label,
      tokensB: c.tokensB!,
      tiesAnalysisId: t?.analysisId ?? null,
      svAnalysisId: s?.analysisId ?? null,
      ties: t ? pct(t.sft.discarded, t.sft.nnzTrimmed) : null,
      tiesSv: s ? pct(s.sft.discarded, s.sft.nnzTrimmed) : null,
      tiesDiscarded: t?.sft.discarded ?? null,
      tiesNnzTrimmed: t?.sft.nnzTrimmed ?? null,
      svDiscarded: s?.sft.discarded ?? null,
      svNnzTrimmed: s?.sft.nnzTrimmed ?? null,
      svRescued: s?.sft.rescued ?? null,
      svSlack: s?.slack ?? null,
      sceAnalysisId: e?.analysisId ?? null,
      sce: e ? pct(e.sft.discarded, e.sft.nnzTrimmed) : null,
      sceDiscarded: e?.sft.discarded ?? null,
      sceNnzTrimmed: e?.sft.nnzTrimmed ?? null,
      dellaAnalysisId: d?.analysisId ?? null,
      della: d ? pct(d.sft.discarded, d.sft.nnzTrimmed) : null,
      dellaDiscarded: d?.sft.discarded ?? null,
      dellaNnzTrimmed: d?.sft.nnzTrimmed ?? null,
    };
  });
}

/** The stop of a sorted grid nearest to a value (the grid's first stop when empty value). */
export function nearest(grid: readonly number[], v: number | null | undefined): number | null {
  if (grid.length === 0) return null;
  if (v === null || v === undefined || !Number.isFinite(v)) return grid[0]!;
  let best = grid[0]!;
  for (const g of grid) if (Math.abs(g - v) < Math.abs(best - v)) best = g;
  return best;
}

/** The selection a view asks for, snapped to the sweep's grid (default: the paper's 0.2 / 1.0). */
export function snapSelection(sweep: Pick<SweepStats, "grid">, want: { sft?: number | null; ct?: number | null; slack?: number | null }): Selection {
  return {
    sftDensity: nearest(sweep.grid.sft, want.sft ?? PAPER_DENSITIES.sft) ?? PAPER_DENSITIES.sft,
    ctDensity: nearest(sweep.grid.ct, want.ct ?? PAPER_DENSITIES.ct) ?? PAPER_DENSITIES.ct,
    slack: sweep.grid.slack.length === 0 ? null : nearest(sweep.grid.slack, want.slack ?? PAPER_SLACK),
  };
}

/** How many (checkpoint, density pair) points of each method the sweep holds. */
export function coverage(index: SweepIndex, method: ElectionMethod, sel: Selection): { filled: number; total: number } {
  let filled = 0;
  for (const c of index.checkpoints) if (lookup(index, method, c.modelId, sel)) filled++;
  return { filled, total: index.checkpoints.length };
}
