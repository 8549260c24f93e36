"use client";

import { tableCells } from "./format";
import type { ChartTable } from "./types";

/** The numbers behind a figure, cell for cell what the CSV export writes. */
export function DataTable({ table, id, caption }: { table: ChartTable; id: string; caption: string }) {
  const [head, ...rows] = tableCells(table);
  const numeric = table.columns.map((c) => c.kind !== "text");
  return (
    <div className="table-wrap chart-table" id={id} data-testid="data-table">
      <table className="data">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {head!.map((h, i) => (
              <th key={i} scope="col" className={numeric[i] ? "num" : undefined}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {r.map((c, j) => (
                <td key={j} className={numeric[j] ? "num" : undefined} data-col={table.columns[j]!.key} title={c === "" ? "no data" : undefined}>
                  {c}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
