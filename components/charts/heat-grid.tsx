"use client";

import { useState } from "react";
import { heatColor } from "./palette";
import type { ChartRow } from "./types";

export interface HeatGridProps {
  data: ChartRow[];
  /** Row label key. */
  index: string;
  /** Column keys (and labels, through columnLabel). */
  categories: string[];
  columnLabel?: (key: string) => string;
  valueFormatter: (v: number) => string;
  title: string;
  /** Cell text (default: 2 decimals). */
  cellText?: (v: number) => string;
  detail?: (row: ChartRow, key: string) => string | null;
  /** Outlined cell (row index, column key). */
  selected?: { row: number; key: string } | null;
  onCellClick?: (row: number, key: string) => void;
  cellWidth?: number;
  cellHeight?: number;
  rowHeader?: string;
  columnHeader?: string;
}

/** An SVG grid of values, darker = larger, with keyboard-focusable cells and an exact-value tooltip. */
export function HeatGrid(props: HeatGridProps) {
  const { data, index, categories, valueFormatter, cellWidth = 66, cellHeight = 22 } = props;
  const [hover, setHover] = useState<{ row: number; col: number } | null>(null);
  const LEFT = 104;
  const TOP = props.columnHeader ? 42 : 26;
  const values = data.flatMap((r) => categories.map((c) => r[c])).filter((v): v is number => typeof v === "number");
  // The colour spans the values present (min → max), so small differences between cells stay visible.
  const max = values.length ? Math.max(...values) : 0;
  const min = values.length ? Math.min(...values) : 0;
  const span = max - min;
  const width = LEFT + categories.length * cellWidth + 8;
  const height = TOP + data.length * cellHeight + 4;
  const colLabel = props.columnLabel ?? ((k: string) => k);
  const hovered = hover ? { row: data[hover.row]!, key: categories[hover.col]! } : null;
  const hv = hovered ? hovered.row[hovered.key] : null;
  return (
    <>
      <div className="heatmap-wrap">
        <svg data-chart-svg="" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="group" aria-label={props.title} fontSize={11}>
          {props.columnHeader ? (
            <text x={LEFT + (categories.length * cellWidth) / 2} y={12} textAnchor="middle" fill="#5d6470">
              {props.columnHeader}
            </text>
          ) : null}
          {props.rowHeader ? (
            <text x={4} y={TOP - 8} fill="#5d6470">
              {props.rowHeader}
            </text>
          ) : null}
          {categories.map((c, j) => (
            <text key={c} x={LEFT + j * cellWidth + cellWidth / 2} y={TOP - 8} textAnchor="middle" fill="#1b1d21" fontWeight={600}>
              {colLabel(c)}
            </text>
          ))}
          {data.map((r, i) => (
            <g key={`${String(r[index])}-${i}`}>
              <text x={LEFT - 8} y={TOP + i * cellHeight + cellHeight / 2 + 4} textAnchor="end" fill="#1b1d21">
                {String(r[index])}
              </text>
              {categories.map((c, j) => {
                const v = r[c];
                const num = typeof v === "number" ? v : null;
                const t = num === null ? 0 : span > 0 ? (num - min) / span : 0.5;
                const label = `${String(r[index])}, ${colLabel(c)}: ${num === null ? "no data" : valueFormatter(num)}`;
                const isSel = props.selected?.row === i && props.selected.key === c;
                const click = props.onCellClick && num !== null ? () => props.onCellClick!(i, c) : undefined;
                return (
                  <g
                    key={c}
                    className="heatmap-cell"
                    tabIndex={num === null ? -1 : 0}
                    role={click ? "button" : "img"}
                    aria-label={label}
                    aria-pressed={click ? isSel : undefined}
                    style={click ? { cursor: "pointer" } : undefined}
                    onClick={click}
                    onKeyDown={click ? (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), click()) : undefined}
                    onMouseEnter={() => setHover({ row: i, col: j })}
                    onMouseLeave={() => setHover(null)}
                    onFocus={() => setHover({ row: i, col: j })}
                    onBlur={() => setHover(null)}
                  >
                    <rect
                      x={LEFT + j * cellWidth + 1}
                      y={TOP + i * cellHeight + 1}
                      width={cellWidth - 2}
                      height={cellHeight - 2}
                      fill={num === null ? "#f0f0f0" : heatColor(t)}
                      stroke={isSel ? "#d55e00" : num === null ? "#d9dce1" : "none"}
                      strokeWidth={isSel ? 3 : 1}
                    />
                    {num !== null ? (
                      <text x={LEFT + j * cellWidth + cellWidth / 2} y={TOP + i * cellHeight + cellHeight / 2 + 4} textAnchor="middle" fill={t > 0.55 ? "#fff" : "#1b1d21"} fontSize={10}>
                        {props.cellText ? props.cellText(num) : num.toFixed(2)}
                      </text>
                    ) : null}
                    <title>{label}</title>
                  </g>
                );
              })}
            </g>
          ))}
        </svg>
      </div>
      <div className="heatmap-scale" aria-hidden="true">
        <span>{valueFormatter(min)}</span>
        <span className="ramp" />
        <span>{valueFormatter(max)}</span>
      </div>
      {hovered && typeof hv === "number" ? (
        <div className="chart-tooltip" role="status" style={{ marginTop: "0.4rem", maxWidth: "none" }}>
          <p className="chart-tooltip-title">
            {String(hovered.row[index])} · {colLabel(hovered.key)}: {valueFormatter(hv)}
          </p>
          {props.detail ? <span className="detail">{props.detail(hovered.row, hovered.key)}</span> : null}
        </div>
      ) : null}
    </>
  );
}
