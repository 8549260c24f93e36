"use client";

import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { pctYAxisProps } from "./axes";
import { ChartFrame, frameProps, type FigureFrameProps } from "./chart-frame";
import { tooltipContent } from "./chart-tooltip";
import type { ChartConfig, ChartRow, LegendItem } from "./types";

export interface DiscardCompareChartProps extends FigureFrameProps {
  /** One row per layer or module: `index` (its label) and the discarded / rescued shares (%) per category. */
  data: ChartRow[];
  index: string;
  categories: string[];
  config: ChartConfig;
  valueFormatter: (v: number) => string;
  testId?: string;
  height?: number;
}

/** TIES vs TIES-SV side by side: per layer or module, the share of the SFT model's trimmed parameters each discards, and what the slack rescued. */
export function DiscardCompareChart(props: DiscardCompareChartProps) {
  const { data, index, categories, config, valueFormatter, testId = "chart-compare", height = 300 } = props;
  const legend: LegendItem[] = categories.map((c) => ({ label: config[c]!.label, color: config[c]!.color, kind: "bar" }));
  return (
    <ChartFrame testId={testId} legend={legend} {...frameProps(props)}>
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 600, height }}>
        <BarChart data={data} margin={{ top: 10, right: 24, bottom: 28, left: 16 }} barGap={1} barCategoryGap="16%">
          <CartesianGrid strokeDasharray="3 3" stroke="#e1e4e8" vertical={false} />
          <XAxis dataKey={index} tick={{ fontSize: 12 }} interval={0} />
          <YAxis {...pctYAxisProps("% of the SFT model's trimmed parameters")} />
          <Tooltip content={tooltipContent({ config, valueFormatter, detail: props.detail, title: (row) => String(row[index]) })} />
          {categories.map((c) => (
            <Bar key={c} dataKey={c} name={config[c]!.label} fill={config[c]!.color} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
