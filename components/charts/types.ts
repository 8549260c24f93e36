// Shared prop types of the chart components (data-first, like Tremor / shadcn
// charts: `data` rows, an `index` key for the x axis, `categories` keys for the
// series, and a config that names and colours each category).
export interface SeriesConfig {
  label: string;
  color: string;
  dash?: string;
}
export type ChartConfig = Record<string, SeriesConfig>;

export type ColumnKind = "text" | "pct" | "count" | "number" | "density" | "tokens";
export interface TableColumn {
  key: string;
  label: string;
  kind: ColumnKind;
}
/** The data behind a figure, exactly as the data table shows it and the CSV export writes it. */
export interface ChartTable {
  columns: TableColumn[];
  rows: Record<string, string | number | null>[];
}

export interface LegendItem {
  label: string;
  color: string;
  dash?: string;
  kind: "line" | "area" | "bar" | "reference";
}

export type ChartRow = Record<string, string | number | null>;

/** A brush on a parallel-coordinates axis: a range in data units, or a set of category values. */
export type Brush = { kind: "range"; lo: number; hi: number } | { kind: "set"; values: string[] };
export type Brushes = Record<string, Brush>;
