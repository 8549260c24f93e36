// Turns the server's shaped statistics into what each chart component takes
// (rows, categories, config, data table). Pure functions, cheap enough to run on
// every slider move (10 checkpoints × a few columns).
import { FAMILY_STYLES, FIG3_COLORS, FIG4_COLORS, VARIANT_DASHES } from "@/components/charts/palette";
import type { ChartConfig, ChartRow, ChartTable } from "@/components/charts/types";
import type { Figure2Data, Heatmap } from "@/server/services/charts/schemas";
import {
  densityLabel,
  figure3Rows,
  figure4Rows,
  lookup,
  pct,
  type Figure3Row,
  type Figure4Row,
  type Selection,
  type SweepIndex,
} from "@/server/services/charts/sweep-select";

const methodName = (m: "ties" | "ties_sv") => (m === "ties" ? "TIES" : "TIES-SV");
const fmtInt = (n: number | null | undefined) => (n === null || n === undefined ? "—" : Math.round(n).toLocaleString("en-US"));

// ---------- Figure 3 ----------

export interface Fig3View {
  rows: Figure3Row[];
  data: ChartRow[];
  categories: string[];
  config: ChartConfig;
  table: ChartTable;
  subtitle: string;
}

export function fig3View(index: SweepIndex, sel: Selection, keep: (checkpointId: string) => boolean): Fig3View {
  const rows = figure3Rows(index, sel).filter((r) => keep(r.checkpointId));
  const dl = densityLabel(sel.sftDensity, sel.ctDensity);
  const config: ChartConfig = {
    electsSft: { label: `Elects SFT sign (TIES, ${dl})`, color: FIG3_COLORS.electsSft },
    electsCt: { label: `Elects CT sign (TIES, ${dl})`, color: FIG3_COLORS.electsCt },
  };
  return {
    rows,
    data: rows.map((r) => ({ tokensB: r.tokensB, label: r.label, electsSft: r.electsSft, electsCt: r.electsCt, _nnz: r.sftNnzTrimmed, _sftWon: r.sftConflictsWon, _ctWon: r.ctConflictsWon })),
    categories: ["electsSft", "electsCt"],
    config,
    subtitle: `TIES, SFT density ${sel.sftDensity}, CT density ${sel.ctDensity} — share of the SFT model's trimmed parameters in sign conflict`,
    table: {
      columns: [
        { key: "label", label: "Checkpoint", kind: "text" },
        { key: "tokensB", label: "CT tokens (B)", kind: "tokens" },
        { key: "sftDensity", label: "k_sft", kind: "density" },
        { key: "ctDensity", label: "k_ct", kind: "density" },
        { key: "electsSft", label: "Elects SFT sign (%)", kind: "pct" },
        { key: "electsCt", label: "Elects CT sign (%)", kind: "pct" },
        { key: "inConflict", label: "In conflict (%)", kind: "pct" },
        { key: "sftWon", label: "conflicts_won[sft]", kind: "count" },
        { key: "ctWon", label: "conflicts_won[ct]", kind: "count" },
        { key: "nnz", label: "nnz_trimmed[sft]", kind: "count" },
      ],
      rows: rows.map((r) => ({
        label: r.label,
        tokensB: r.tokensB,
        sftDensity: sel.sftDensity,
        ctDensity: sel.ctDensity,
        electsSft: r.electsSft,
        electsCt: r.electsCt,
        inConflict: r.inConflict,
        sftWon: r.sftConflictsWon,
        ctWon: r.ctConflictsWon,
        nnz: r.sftNnzTrimmed,
      })),
    },
  };
}

export function fig3Detail(row: ChartRow, key: string): string | null {
  const won = key === "electsSft" ? row._sftWon : row._ctWon;
  if (typeof won !== "number" || typeof row._nnz !== "number") return null;
  return `${fmtInt(won)} of ${fmtInt(row._nnz)} trimmed SFT parameters`;
}

// ---------- Figure 4 ----------

export interface Fig4View {
  rows: Figure4Row[];
  data: ChartRow[];
  categories: string[];
  config: ChartConfig;
  table: ChartTable;
  subtitle: string;
}

export function fig4View(index: SweepIndex, sel: Selection, keep: (checkpointId: string) => boolean): Fig4View {
  const rows = figure4Rows(index, sel).filter((r) => keep(r.checkpointId));
  const dl = densityLabel(sel.sftDensity, sel.ctDensity);
  const slacks = [...new Set(rows.map((r) => r.svSlack).filter((s): s is number => s !== null))];
  const slackText = slacks.length ? `, slack ${slacks.join("/")}` : "";
  const hasSv = rows.some((r) => r.tiesSv !== null);
  const hasSce = rows.some((r) => r.sce !== null);
  const hasDella = rows.some((r) => r.della !== null);
  const onlyOthers = (hasSce || hasDella) && !rows.some((r) => r.ties !== null);
  const categories = [...(onlyOthers ? [] : ["ties"]), ...(hasSv ? ["tiesSv"] : []), ...(hasSce ? ["sce"] : []), ...(hasDella ? ["della"] : [])];
  return {
    rows,
    data: rows.map((r) => ({
      label: r.label,
      tokensB: r.tokensB,
      ties: r.ties,
      tiesSv: r.tiesSv,
      _tD: r.tiesDiscarded,
      _tN: r.tiesNnzTrimmed,
      _sD: r.svDiscarded,
      _sN: r.svNnzTrimmed,
      _sR: r.svRescued,
      sce: r.sce,
      _eD: r.sceDiscarded,
      _eN: r.sceNnzTrimmed,
      della: r.della,
      _dD: r.dellaDiscarded,
      _dN: r.dellaNnzTrimmed,
    })),
    categories,
    config: {
      ties: { label: `TIES (${dl})`, color: FIG4_COLORS.ties },
      tiesSv: { label: `TIES-SV (${dl}${slackText}), after rescue`, color: FIG4_COLORS.tiesSv },
      sce: { label: `SCE (select_topk ${sel.sftDensity})`, color: FIG4_COLORS.sce },
      della: { label: `DELLA (${dl})`, color: FIG4_COLORS.della },
    },
    subtitle: `SFT density ${sel.sftDensity}, CT density ${sel.ctDensity} — discarded[sft] / nnz_trimmed[sft]`,
    table: {
      columns: [
        { key: "label", label: "Checkpoint", kind: "text" },
        { key: "tokensB", label: "CT tokens (B)", kind: "tokens" },
        { key: "sftDensity", label: "k_sft", kind: "density" },
        { key: "ctDensity", label: "k_ct", kind: "density" },
        { key: "ties", label: "TIES discarded (%)", kind: "pct" },
        { key: "tiesDiscarded", label: "TIES discarded[sft]", kind: "count" },
        { key: "tiesNnz", label: "TIES nnz_trimmed[sft]", kind: "count" },
        { key: "tiesSv", label: "TIES-SV discarded (%)", kind: "pct" },
        { key: "svDiscarded", label: "TIES-SV discarded[sft]", kind: "count" },
        { key: "svRescued", label: "TIES-SV rescued[sft]", kind: "count" },
        { key: "svSlack", label: "slack", kind: "density" },
        ...(hasSce
          ? ([
              { key: "sce", label: "SCE discarded (%)", kind: "pct" },
              { key: "sceDiscarded", label: "SCE discarded[sft]", kind: "count" },
            ] as const)
          : []),
        ...(hasDella
          ? ([
              { key: "della", label: "DELLA discarded (%)", kind: "pct" },
              { key: "dellaDiscarded", label: "DELLA discarded[sft]", kind: "count" },
            ] as const)
          : []),
      ],
      rows: rows.map((r) => ({
        label: r.label,
        tokensB: r.tokensB,
        sftDensity: sel.sftDensity,
        ctDensity: sel.ctDensity,
        ties: r.ties,
        tiesDiscarded: r.tiesDiscarded,
        tiesNnz: r.tiesNnzTrimmed,
        tiesSv: r.tiesSv,
        svDiscarded: r.svDiscarded,
        svRescued: r.svRescued,
        svSlack: r.svSlack,
        ...(hasSce ? { sce: r.sce, sceDiscarded: r.sceDiscarded } : {}),
        ...(hasDella ? { della: r.della, dellaDiscarded: r.dellaDiscarded } : {}),
      })),
    },
  };
}

export function fig4Detail(row: ChartRow, key: string): string | null {
  if (key === "ties" && typeof row._tD === "number") return `${fmtInt(row._tD)} of ${fmtInt(row._tN as number)} trimmed SFT parameters`;
  if (key === "tiesSv" && typeof row._sD === "number") return `${fmtInt(row._sD)} of ${fmtInt(row._sN as number)} (${fmtInt(row._sR as number)} rescued)`;
  if (key === "sce" && typeof row._eD === "number") return `${fmtInt(row._eD)} of ${fmtInt(row._eN as number)} kept SFT parameters`;
  if (key === "della" && typeof row._dD === "number") return `${fmtInt(row._dD)} of ${fmtInt(row._dN as number)} kept SFT parameters`;
  return null;
}

// ---------- density explorer overview ----------

export interface ExplorerView {
  data: ChartRow[];
  categories: string[];
  columnLabel: (key: string) => string;
  table: ChartTable;
  selected: { row: number; key: string } | null;
}

/** Discard share of the SFT model at one checkpoint for every density pair of the grid. */
export function explorerView(index: SweepIndex, grid: { sft: number[]; ct: number[] }, checkpointId: string | null, method: "ties" | "ties_sv", sel: Selection): ExplorerView {
  const categories = grid.ct.map((_, j) => `c${j}`);
  const columnLabel = (k: string) => String(grid.ct[Number(k.slice(1))] ?? k);
  const data: ChartRow[] = grid.sft.map((s) => {
    const row: ChartRow = { label: String(s), sft: s };
    grid.ct.forEach((c, j) => {
      const p = checkpointId ? lookup(index, method, checkpointId, { sftDensity: s, ctDensity: c, slack: sel.slack }) : undefined;
      row[`c${j}`] = p ? pct(p.sft.discarded, p.sft.nnzTrimmed) : null;
      row[`_d${j}`] = p?.sft.discarded ?? null;
      row[`_n${j}`] = p?.sft.nnzTrimmed ?? null;
    });
    return row;
  });
  const tableRows = grid.sft.flatMap((s, i) =>
    grid.ct.map((c, j) => ({ sft: s, ct: c, pct: data[i]![`c${j}`] ?? null, discarded: data[i]![`_d${j}`] ?? null, nnz: data[i]![`_n${j}`] ?? null })),
  );
  const ri = grid.sft.indexOf(sel.sftDensity);
  const cj = grid.ct.indexOf(sel.ctDensity);
  return {
    data,
    categories,
    columnLabel,
    selected: ri >= 0 && cj >= 0 ? { row: ri, key: `c${cj}` } : null,
    table: {
      columns: [
        { key: "sft", label: "k_sft", kind: "density" },
        { key: "ct", label: "k_ct", kind: "density" },
        { key: "pct", label: `${methodName(method)} discarded (%)`, kind: "pct" },
        { key: "discarded", label: "discarded[sft]", kind: "count" },
        { key: "nnz", label: "nnz_trimmed[sft]", kind: "count" },
      ],
      rows: tableRows,
    },
  };
}

export function explorerDetail(row: ChartRow, key: string): string | null {
  const j = key.slice(1);
  const d = row[`_d${j}`];
  const n = row[`_n${j}`];
  return typeof d === "number" && typeof n === "number" ? `${fmtInt(d)} of ${fmtInt(n)} trimmed SFT parameters discarded` : null;
}

// ---------- heatmap ----------

export function heatmapView(h: Heatmap): { data: ChartRow[]; categories: string[]; table: ChartTable } {
  const label = (l: number | null) => (l === null ? "outside layers" : `layer ${l}`);
  const data: ChartRow[] = h.layers.map((l) => {
    const row: ChartRow = { label: label(l) };
    for (const m of h.modules) {
      const c = h.cells.find((x) => x.layer === l && x.module === m);
      row[m] = c ? c.pct : null;
      row[`_d:${m}`] = c?.discarded ?? null;
      row[`_n:${m}`] = c?.nnzTrimmed ?? null;
    }
    return row;
  });
  return {
    data,
    categories: h.modules,
    table: {
      columns: [
        { key: "layer", label: "Layer", kind: "text" },
        { key: "module", label: "Module", kind: "text" },
        { key: "pct", label: "Discarded (%)", kind: "pct" },
        { key: "discarded", label: "discarded[sft]", kind: "count" },
        { key: "nnz", label: "nnz_trimmed[sft]", kind: "count" },
        { key: "tensors", label: "Tensors", kind: "count" },
      ],
      rows: h.layers.flatMap((l) =>
        h.modules
          .map((m) => h.cells.find((x) => x.layer === l && x.module === m))
          .filter((c): c is NonNullable<typeof c> => c !== undefined)
          .map((c) => ({ layer: label(l), module: c.module, pct: c.pct, discarded: c.discarded, nnz: c.nnzTrimmed, tensors: c.tensors })),
      ),
    },
  };
}

export function heatmapDetail(row: ChartRow, key: string): string | null {
  const d = row[`_d:${key}`];
  const n = row[`_n:${key}`];
  return typeof d === "number" && typeof n === "number" ? `${fmtInt(d)} of ${fmtInt(n)} trimmed SFT parameters discarded` : null;
}

// ---------- Figure 2 ----------

export interface Fig2View {
  categories: string[];
  /** Merge series with scores left out by the density choice. */
  hiddenByDensity: number;
  config: ChartConfig;
  table: ChartTable;
  pointCount: number;
}

export function fig2View(f: Figure2Data, opts: { families: string[] | null; densities: "paper" | "explorer" | "all"; sel: Selection | null; keepTokens: (tokensB: number) => boolean }): Fig2View {
  const variant = new Map<string, number>();
  const shown = f.series.filter((s) => {
    if (opts.families && !opts.families.includes(s.family)) return false;
    if (!s.densities) return true;
    if (opts.densities === "all") return true;
    if (opts.densities === "paper") return s.paperDensities;
    return !!opts.sel && s.densities[0] === opts.sel.sftDensity && s.densities[1] === opts.sel.ctDensity;
  });
  const config: ChartConfig = {};
  for (const s of shown) {
    const base = FAMILY_STYLES[s.family] ?? { color: "#444444" };
    const v = variant.get(s.family) ?? 0;
    variant.set(s.family, v + 1);
    config[s.dataKey] = { label: s.label, color: base.color, dash: v === 0 ? base.dash : VARIANT_DASHES[v % VARIANT_DASHES.length] };
  }
  const rows = f.rows.filter((r) => typeof r.tokensB === "number" && opts.keepTokens(r.tokensB));
  const hiddenByDensity = f.series.filter((s) => !shown.includes(s) && s.points.length > 0 && (!opts.families || opts.families.includes(s.family))).length;
  return {
    categories: shown.map((s) => s.dataKey),
    hiddenByDensity,
    config,
    pointCount: shown.reduce((n, s) => n + s.points.filter((p) => opts.keepTokens(p.tokensB)).length, 0),
    table: {
      columns: [
        { key: "label", label: "Checkpoint", kind: "text" },
        { key: "tokensB", label: "CT tokens (B)", kind: "tokens" },
        ...shown.map((s) => ({ key: s.dataKey, label: s.label, kind: "number" as const })),
      ],
      rows,
    },
  };
}
