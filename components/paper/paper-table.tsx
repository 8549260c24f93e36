// One of the paper's tables as published, with the cells the consistency check
// flagged marked (and said in words for screen readers). Server-renderable.
import type { ReactNode } from "react";

export interface PaperTableRow {
  label: ReactNode;
  key: string;
  values: Record<string, number | undefined>;
  average?: number;
  /** The mean of the row's task columns, shown next to the published average. */
  recomputed?: number;
  extra?: ReactNode[];
}

export interface PaperTableProps {
  number: number;
  caption: string;
  columns: { key: string; label: string }[];
  rows: PaperTableRow[];
  extraHeaders?: string[];
  hasAverage: boolean;
  showRecomputed?: boolean;
  /** "row|column" → why the cell is flagged (column "average" = the Average column). */
  flags?: Map<string, { text: string; severity: "inconsistent" | "suspicious" }>;
  /** Mark the best (bold) and second best (underlined) per column, as the paper does for Tables 3 and 5. */
  rankColumns?: boolean;
}

const fmt = (v: number | undefined) => (v === undefined ? "—" : v.toFixed(2));

function ranks(rows: PaperTableRow[], key: string, average: boolean): { best: number | null; second: number | null } {
  const vals = [...new Set(rows.map((r) => (average ? r.average : r.values[key])).filter((v): v is number => v !== undefined))].sort((a, b) => b - a);
  return { best: vals[0] ?? null, second: vals[1] ?? null };
}

function Cell({ value, flag, rank }: { value: number | undefined; flag?: { text: string; severity: string }; rank?: "best" | "second" | null }) {
  let content: ReactNode = fmt(value);
  if (rank === "best") content = <strong>{content}</strong>;
  if (rank === "second") content = <u>{content}</u>;
  if (!flag) return <td className="num">{content}</td>;
  return (
    <td className={`num cell-flag cell-${flag.severity}`} title={flag.text} data-flagged={flag.severity}>
      {content}
      <sup aria-hidden="true">{flag.severity === "inconsistent" ? "†" : "?"}</sup>
      <span className="sr-only"> ({flag.severity === "inconsistent" ? "disagrees with the paper's other numbers" : "suspicious value"}: {flag.text})</span>
    </td>
  );
}

export function PaperTable({ number, caption, columns, rows, extraHeaders = [], hasAverage, showRecomputed, flags, rankColumns }: PaperTableProps) {
  const rankOf = (key: string, average: boolean, v: number | undefined) => {
    if (!rankColumns || v === undefined) return null;
    const r = ranks(rows, key, average);
    return v === r.best ? "best" : v === r.second ? "second" : null;
  };
  return (
    <div className="table-wrap" data-testid={`paper-table-${number}`}>
      <table className="data paper-table">
        <caption>
          <strong>Table {number}.</strong> {caption}
        </caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            {extraHeaders.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
            {columns.map((c) => (
              <th key={c.key} scope="col" className="num">
                {c.label}
              </th>
            ))}
            {hasAverage && (
              <th scope="col" className="num">
                Average
              </th>
            )}
            {showRecomputed && (
              <th scope="col" className="num" title="Mean of the row's task scores, recomputed by MergeScope">
                Recomputed
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const recomputedOk = r.recomputed === undefined || r.average === undefined || Math.abs(r.recomputed - r.average) <= 0.01 + 1e-9;
            return (
              <tr key={r.key} data-row={r.key}>
                <th scope="row">{r.label}</th>
                {r.extra?.map((x, i) => <td key={i}>{x}</td>)}
                {columns.map((c) => (
                  <Cell key={c.key} value={r.values[c.key]} flag={flags?.get(`${r.key}|${c.key}`)} rank={rankOf(c.key, false, r.values[c.key])} />
                ))}
                {hasAverage && <Cell value={r.average} flag={flags?.get(`${r.key}|average`)} rank={rankOf("average", true, r.average)} />}
                {showRecomputed && (
                  <td className={`num ${recomputedOk ? "muted" : "recomputed-off"}`} data-testid="recomputed">
                    {r.recomputed === undefined ? "—" : String(Number(r.recomputed.toFixed(4)))}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
