"use client";

import { ChartFrame, frameProps, type FigureFrameProps } from "./chart-frame";
import { HeatGrid } from "./heat-grid";
import type { ChartRow } from "./types";

export interface DiscardHeatmapProps extends FigureFrameProps {
  /** One row per layer: `index` (its label) and the discarded share (%) per category (module). */
  data: ChartRow[];
  index: string;
  categories: string[];
  valueFormatter: (v: number) => string;
}

/** Layer × module heatmap of the SFT model's discard rate for one analysis (plain SVG: Recharts has no heatmap). */
export function DiscardHeatmap(props: DiscardHeatmapProps) {
  return (
    <ChartFrame testId="chart-heatmap" legend={[]} {...frameProps(props)}>
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
