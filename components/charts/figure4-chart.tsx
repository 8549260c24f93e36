"use client";

import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { pctYAxisProps } from "./axes";
import { ChartFrame, frameProps, type FigureFrameProps } from "./chart-frame";
import { tooltipContent } from "./chart-tooltip";
import { formatTokensB } from "./format";
import type { ChartConfig, ChartRow, LegendItem } from "./types";

export interface Figure4ChartProps extends FigureFrameProps {
  /** One row per CT checkpoint: `index` (its label, "2B") and the discarded share (%) per category (TIES, TIES-SV). */
  data: ChartRow[];
  index: string;
  categories: string[];
  config: ChartConfig;
  valueFormatter: (v: number) => string;
  height?: number;
}

/** Figure 4: share of the SFT model's trimmed parameters discarded by the sign election, TIES and TIES-SV side by side. */
export function Figure4Chart(props: Figure4ChartProps) {
  const { data, index, categories, config, valueFormatter, height = 340 } = props;
  const legend: LegendItem[] = categories.map((c) => ({ label: config[c]!.label, color: config[c]!.color, kind: "bar" }));
  return (
    <ChartFrame testId="chart-fig4" legend={legend} {...frameProps(props)}>
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 600, height }}>
        <BarChart data={data} margin={{ top: 10, right: 24, bottom: 28, left: 16 }} barGap={2} barCategoryGap="18%">
          <CartesianGrid strokeDasharray="3 3" stroke="#e1e4e8" vertical={false} />
          <XAxis dataKey={index} label={{ value: "CT tokens", position: "insideBottom", offset: -16, fontSize: 12, fill: "#3d434c" }}
            tickFormatter={(v: unknown) => (typeof v === "number" ? formatTokensB(v) : String(v))}
            tick={{ fontSize: 12 }} />
          <YAxis {...pctYAxisProps("% of the SFT model's trimmed parameters")} />
          <Tooltip content={tooltipContent({ config, valueFormatter, detail: props.detail, title: (row) => `${String(row[index])} CT tokens — discarded from the SFT model` })} />
          {categories.map((c) => (
            <Bar key={c} dataKey={c} name={config[c]!.label} fill={config[c]!.color} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
