"use client";

import type { ReactNode } from "react";
import { ChartFrame } from "./chart-frame";
import { HeatGrid } from "./heat-grid";
import type { ChartRow, ChartTable } from "./types";

export interface DiscardHeatmapProps {
  /** One row per layer: `index` (its label) and the discarded share (%) per category (module). */
  data: ChartRow[];
  index: string;
  categories: string[];
  valueFormatter: (v: number) => string;
  title: string;
  subtitle?: string;
  table: ChartTable;
  tableOpen: boolean;
  onTableOpenChange: (open: boolean) => void;
  detail?: (row: ChartRow, key: string) => string | null;
  empty?: ReactNode;
  controls?: ReactNode;
  caption?: ReactNode;
}

/** Layer × module heatmap of the SFT model's discard rate for one analysis (plain SVG: Recharts has no heatmap). */
export function DiscardHeatmap(props: DiscardHeatmapProps) {
  return (
    <ChartFrame
      testId="chart-heatmap"
      title={props.title}
      subtitle={props.subtitle}
      legend={[]}
      table={props.table}
      tableOpen={props.tableOpen}
      onTableOpenChange={props.onTableOpenChange}
      empty={props.empty}
      controls={props.controls}
      caption={props.caption}
    >
      <HeatGrid
        data={props.data}
        index={props.index}
        categories={props.categories}
        valueFormatter={props.valueFormatter}
        detail={props.detail}
        title={props.title}
        rowHeader="layer"
        columnHeader="module"
      />
    </ChartFrame>
  );
}
