// Number formats of the charts. The data table and the CSV export use the same
// cell strings (tableCells), so an exported file matches what the table shows.
import type { ChartTable, ColumnKind } from "./types";

export const PCT_DIGITS = 4;

/** 12.3456789 → "12.3457 %" (tooltips, axis ticks use fewer digits). */
export function formatPct(v: number | null | undefined, digits = PCT_DIGITS): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "—" : `${v.toFixed(digits)} %`;
}

export function formatInt(v: number | null | undefined): string {
  return v === null || v === undefined ? "—" : Math.round(v).toLocaleString("en-US");
}

/** 2 → "2B", 12.4 → "12.4B" (CT tokens in billions). */
/** A token count given in billions, in the unit that suits it: 328K, 1.5M, 2B, 1.2T (a series of small CT runs reads as such). */
export function formatTokensB(v: number): string {
  const tokens = v * 1e9;
  const units: [number, string][] = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
  ];
  for (const [scale, unit] of units) if (Math.abs(tokens) >= scale) return `${Number((tokens / scale).toPrecision(4))}${unit}`;
  return String(Number(tokens.toPrecision(4)));
}

export function cellText(v: string | number | null | undefined, kind: ColumnKind): string {
  if (v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v))) return "";
  if (typeof v === "string") return v;
  switch (kind) {
    case "pct":
    case "number":
      return v.toFixed(PCT_DIGITS);
    case "count":
      return String(Math.round(v));
    case "density":
    case "tokens":
      return String(Number(v.toPrecision(6)));
    default:
      return String(v);
  }
}

/** Header row + one string row per data row. */
export function tableCells(table: ChartTable): string[][] {
  return [table.columns.map((c) => c.label), ...table.rows.map((r) => table.columns.map((c) => cellText(r[c.key], c.kind)))];
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvText(table: ChartTable): string {
  return tableCells(table)
    .map((row) => row.map(csvField).join(","))
    .join("\n")
    .concat("\n");
}

/** A file name from a title: "Figure 3 — TIES k=0.2/1" → "figure-3-ties-k-0-2-1". */
export function fileSlug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 80) || "chart"
  );
}
