"use client";

import { useId, useRef, useState, type ReactNode } from "react";
import { ChartLegend } from "./chart-legend";
import { DataTable } from "./data-table";
import { chartSvgOf, composeSvg, downloadCsv, downloadPng, downloadSvg } from "./export";
import { fileSlug } from "./format";
import type { ChartRow, ChartTable, LegendItem } from "./types";
import "./charts.css";

/** What every figure component takes for its frame (title, data table, empty state, controls). */
export interface FigureFrameProps {
  title: string;
  subtitle?: string;
  table: ChartTable;
  /** Data table shown (kept in the URL by the page). */
  tableOpen: boolean;
  onTableOpenChange: (open: boolean) => void;
  /** Replaces the chart when there is nothing to draw (says how to get data). */
  empty?: ReactNode;
  controls?: ReactNode;
  caption?: ReactNode;
  /** Tooltip line for one data point (null: none). */
  detail?: (row: ChartRow, key: string) => string | null;
}

/** The frame fields of a figure's props, to spread into <ChartFrame>. */
export function frameProps(p: FigureFrameProps): Omit<FigureFrameProps, "detail"> {
  const { title, subtitle, table, tableOpen, onTableOpenChange, empty, controls, caption } = p;
  return { title, subtitle, table, tableOpen, onTableOpenChange, empty, controls, caption };
}

export interface ChartFrameProps extends Omit<FigureFrameProps, "detail"> {
  /** data-testid of the figure (chart-fig2, chart-fig3, …). */
  testId: string;
  legend: LegendItem[];
  children: ReactNode;
}

/** A figure with its title, legend, data table toggle and CSV / SVG / PNG export. */
export function ChartFrame({ testId, title, subtitle, legend, table, tableOpen, onTableOpenChange, empty, controls, caption, children }: ChartFrameProps) {
  const id = useId();
  const bodyRef = useRef<HTMLDivElement>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  const file = fileSlug(`${title}${subtitle ? ` ${subtitle}` : ""}`);
  const svgNow = () => {
    const svg = bodyRef.current ? chartSvgOf(bodyRef.current) : null;
    if (!svg) throw new Error("nothing drawn yet");
    return composeSvg(svg, { title, subtitle, legend });
  };
  const run = (f: () => void | Promise<void>) => async () => {
    setExportError(null);
    try {
      await f();
    } catch (err) {
      setExportError((err as Error).message);
    }
  };
  const hasData = !empty && table.rows.length > 0;
  return (
    <figure className="chart-card" data-testid={testId} aria-labelledby={`${id}-title`}>
      <header className="chart-head">
        <div>
          <h2 id={`${id}-title`}>{title}</h2>
          {subtitle ? <p className="chart-sub">{subtitle}</p> : null}
        </div>
        <div className="chart-tools" role="toolbar" aria-label={`${title}: table and export`}>
          <button
            type="button"
            className="btn btn-small"
            data-testid="data-table-toggle"
            aria-pressed={tableOpen}
            aria-controls={`${id}-table`}
            onClick={() => onTableOpenChange(!tableOpen)}
          >
            {tableOpen ? "Hide data table" : "Data table"}
          </button>
          <button type="button" className="btn btn-small" data-testid="export-csv" disabled={!hasData} onClick={run(() => downloadCsv(table, file))}>
            CSV
          </button>
          <button type="button" className="btn btn-small" data-testid="export-svg" disabled={!hasData} onClick={run(() => downloadSvg(svgNow().svg, file))}>
            SVG
          </button>
          <button
            type="button"
            className="btn btn-small"
            data-testid="export-png"
            disabled={!hasData}
            onClick={run(async () => {
              const s = svgNow();
              await downloadPng(s.svg, s.width, s.height, file);
            })}
          >
            PNG
          </button>
        </div>
      </header>
      {controls ? <div className="chart-controls">{controls}</div> : null}
      {exportError ? (
        <p role="alert" className="alert alert-error">
          Export failed: {exportError}
        </p>
      ) : null}
      <div className="chart-body" ref={bodyRef}>
        {empty ?? children}
      </div>
      {empty ? null : <ChartLegend items={legend} />}
      {tableOpen ? <DataTable table={table} id={`${id}-table`} caption={title} /> : null}
      {caption ? <figcaption className="chart-caption">{caption}</figcaption> : null}
    </figure>
  );
}
