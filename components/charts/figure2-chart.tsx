"use client";

import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ChartFrame, frameProps, type FigureFrameProps } from "./chart-frame";
import { tooltipContent } from "./chart-tooltip";
import { formatTokensB } from "./format";
import type { ChartConfig, ChartRow, LegendItem } from "./types";

export interface ReferenceValue {
  key: string;
  label: string;
  value: number;
  color: string;
  dash?: string;
}

export interface Figure2ChartProps extends FigureFrameProps {
  /** One row per CT token count: `index` (tokens in B) and one value per category. */
  data: ChartRow[];
  index: string;
  categories: string[];
  config: ChartConfig;
  valueFormatter: (v: number) => string;
  /** Horizontal lines: BASE, SFT, and optionally the paper's numbers. */
  references: ReferenceValue[];
  yLabel: string;
  /** The CT-token axis: linear (as the paper) or logarithmic for series spanning orders of magnitude. */
  xScale?: "linear" | "log";
  height?: number;
}

/** Figure 2: score vs CT tokens, one line per model family, BASE and SFT as reference lines. */
export function Figure2Chart(props: Figure2ChartProps) {
  const { data, index, categories, config, valueFormatter, references, yLabel, xScale = "linear", height = 380 } = props;
  const ticks = data.map((r) => r[index]).filter((v): v is number => typeof v === "number");
  const legend: LegendItem[] = [
    ...categories.map((c) => ({ label: config[c]!.label, color: config[c]!.color, dash: config[c]!.dash, kind: "line" as const })),
    ...references.map((r) => ({ label: r.label, color: r.color, dash: r.dash, kind: "reference" as const })),
  ];
  return (
    <ChartFrame testId="chart-fig2" legend={legend} {...frameProps(props)}>
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 900, height }}>
        <LineChart data={data} margin={{ top: 10, right: 24, bottom: 28, left: 16 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e1e4e8" />
          <XAxis
            type="number"
            dataKey={index}
            scale={xScale}
            domain={["dataMin", "dataMax"]}
            ticks={ticks}
            tickFormatter={(v: number) => formatTokensB(v)}
            padding={{ left: 16, right: 16 }}
            label={{ value: "CT tokens", position: "insideBottom", offset: -16, fontSize: 12, fill: "#3d434c" }}
            tick={{ fontSize: 12 }}
          />
          <YAxis
            tickFormatter={(v: number) => v.toFixed(0)}
            width={64}
            label={{ value: yLabel, angle: -90, position: "insideLeft", style: { textAnchor: "middle" }, offset: 4, fontSize: 12, fill: "#3d434c" }}
            tick={{ fontSize: 12 }}
          />
          <Tooltip content={tooltipContent({ config, valueFormatter, detail: props.detail, title: (row) => `${formatTokensB(Number(row[index]))} CT tokens` })} />
          {references.map((r) => (
            <ReferenceLine
              key={r.key}
              y={r.value}
              stroke={r.color}
              strokeDasharray={r.dash}
              strokeWidth={1.5}
              ifOverflow="extendDomain"
              label={{ value: `${r.label} ${valueFormatter(r.value)}`, position: "insideTopLeft", fontSize: 11, fill: r.color === "#000000" ? "#000" : "#333" }}
            />
          ))}
          {categories.map((c) => (
            <Line
              key={c}
              type="linear"
              dataKey={c}
              name={config[c]!.label}
              stroke={config[c]!.color}
              strokeDasharray={config[c]!.dash}
              strokeWidth={2.25}
              dot={{ r: 3.5, strokeWidth: 1.5, fill: "#fff", strokeDasharray: "" }}
              activeDot={{ r: 5 }}
              connectNulls
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
