"use client";

import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { pctYAxisProps } from "./axes";
import { ChartFrame, frameProps, type FigureFrameProps } from "./chart-frame";
import { tooltipContent } from "./chart-tooltip";
import type { ChartConfig, ChartRow, LegendItem } from "./types";

export interface MethodsChartProps extends FigureFrameProps {
  /** One row per module or layer: `index` (its label) and, per method m, `m:kept` and `m:discarded` (% of the group's SFT parameters). */
  data: ChartRow[];
  index: string;
  /** Methods in drawing order: one stacked bar each (kept, then discarded on top). */
  methods: string[];
  config: ChartConfig;
  valueFormatter: (v: number) => string;
  height?: number;
}

/** Methods side by side: per group, one bar per method stacking the SFT parameters it keeps (solid) and discards by the sign election (pale). */
export function MethodsChart(props: MethodsChartProps) {
  const { data, index, methods, config, valueFormatter, height = 320 } = props;
  const legend: LegendItem[] = [
    ...methods.map((m) => ({ label: config[`${m}:kept`]!.label.replace(/: enters the merge$/, ""), color: config[`${m}:kept`]!.color, kind: "bar" as const })),
    { label: "pale: discarded by the sign election", color: "#c9ced6", kind: "bar" },
  ];
  return (
    <ChartFrame testId="chart-methods" legend={legend} {...frameProps(props)}>
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 600, height }}>
        <BarChart data={data} margin={{ top: 10, right: 24, bottom: 28, left: 16 }} barGap={1} barCategoryGap="14%">
          <CartesianGrid strokeDasharray="3 3" stroke="#e1e4e8" vertical={false} />
          <XAxis dataKey={index} tick={{ fontSize: 12 }} interval={0} />
          <YAxis {...pctYAxisProps("% of the group's SFT parameters")} />
          <Tooltip content={tooltipContent({ config, valueFormatter, detail: props.detail, title: (row) => String(row[index]) })} />
          {methods.flatMap((m) => [
            <Bar key={`${m}:kept`} dataKey={`${m}:kept`} stackId={m} name={config[`${m}:kept`]!.label} fill={config[`${m}:kept`]!.color} isAnimationActive={false} />,
            <Bar
              key={`${m}:discarded`}
              dataKey={`${m}:discarded`}
              stackId={m}
              name={config[`${m}:discarded`]!.label}
              fill={config[`${m}:discarded`]!.color}
              fillOpacity={0.35}
              stroke={config[`${m}:discarded`]!.color}
              isAnimationActive={false}
            />,
          ])}
        </BarChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
