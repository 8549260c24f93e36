"use client";

import { Area, AreaChart, Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { pctYAxisProps } from "./axes";
import { ChartFrame, frameProps, type FigureFrameProps } from "./chart-frame";
import { tooltipContent } from "./chart-tooltip";
import { formatTokensB } from "./format";
import type { ChartConfig, ChartRow, LegendItem } from "./types";

export const FIG3_Y_LABEL = "% of the SFT model's trimmed parameters";

export interface Figure3ChartProps extends FigureFrameProps {
  /** One row per CT checkpoint: `index` (tokens in B), `label` ("2B") and a share (%) per category. */
  data: ChartRow[];
  index: string;
  categories: string[];
  config: ChartConfig;
  valueFormatter: (v: number) => string;
  kind: "area" | "bars";
  height?: number;
}

/** Figure 3: the SFT model's parameters in sign conflict, stacked by which sign the election picks, over CT tokens. */
export function Figure3Chart(props: Figure3ChartProps) {
  const { data, index, categories, config, valueFormatter, kind, height = 340 } = props;
  const legend: LegendItem[] = categories.map((c) => ({ label: config[c]!.label, color: config[c]!.color, kind: kind === "area" ? "area" : "bar" }));
  const ticks = data.map((r) => r[index]).filter((v): v is number => typeof v === "number");
  const tooltip = (
    <Tooltip content={tooltipContent({ config, valueFormatter, detail: props.detail, title: (row) => `${formatTokensB(Number(row[index]))} CT tokens — in conflict: ${valueFormatter(categories.reduce((s, c) => s + (Number(row[c]) || 0), 0))}` })} />
  );
  const yAxis = (
    <YAxis {...pctYAxisProps(FIG3_Y_LABEL)} />
  );
  const margin = { top: 10, right: 24, bottom: 28, left: 16 };
  return (
    <ChartFrame testId="chart-fig3" legend={legend} {...frameProps(props)}>
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 600, height }}>
        {kind === "area" ? (
          <AreaChart data={data} margin={margin}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e1e4e8" />
            <XAxis
              type="number"
              dataKey={index}
              domain={["dataMin", "dataMax"]}
              ticks={ticks}
              tickFormatter={(v: number) => formatTokensB(v)}
              label={{ value: "CT tokens", position: "insideBottom", offset: -16, fontSize: 12, fill: "#3d434c" }}
            tick={{ fontSize: 12 }}
            />
            {yAxis}
            {tooltip}
            {categories.map((c) => (
              <Area
                key={c}
                type="linear"
                dataKey={c}
                name={config[c]!.label}
                stackId="conflict"
                stroke={config[c]!.color}
                fill={config[c]!.color}
                fillOpacity={0.75}
                strokeWidth={1.5}
                dot={{ r: 2.5, fill: config[c]!.color }}
                isAnimationActive={false}
              />
            ))}
          </AreaChart>
        ) : (
          <BarChart data={data} margin={margin}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e1e4e8" vertical={false} />
            <XAxis dataKey="label" label={{ value: "CT tokens", position: "insideBottom", offset: -16, fontSize: 12, fill: "#3d434c" }}
            tick={{ fontSize: 12 }} />
            {yAxis}
            {tooltip}
            {categories.map((c) => (
              <Bar key={c} dataKey={c} name={config[c]!.label} stackId="conflict" fill={config[c]!.color} isAnimationActive={false} />
            ))}
          </BarChart>
        )}
      </ResponsiveContainer>
    </ChartFrame>
  );
}
