"use client";

import { Bar, BarChart, CartesianGrid, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ChartFrame, frameProps, type FigureFrameProps } from "./chart-frame";
import { ChartTooltip } from "./chart-tooltip";
import type { ChartConfig, ChartRow, LegendItem } from "./types";

export interface MarginHistogramChartProps extends FigureFrameProps {
  /** One row per margin bin, in ascending margin order: `index` (its label) and a count per category (stacked). */
  data: ChartRow[];
  index: string;
  categories: string[];
  config: ChartConfig;
  /** The bin label the slack cut falls in (null: no single cut) and the reference line's label. */
  cut: { at: string; label: string; color: string } | null;
  valueFormatter: (v: number) => string;
  testId?: string;
  height?: number;
}

/** The distribution of the SFT model's lost-election margins (log-spaced bins), reserved and not, with the slack cut as a reference line. */
export function MarginHistogramChart(props: MarginHistogramChartProps) {
  const { data, index, categories, config, cut, valueFormatter, testId = "chart-margins", height = 300 } = props;
  const legend: LegendItem[] = [
    ...categories.map((c) => ({ label: config[c]!.label, color: config[c]!.color, kind: "bar" as const })),
    ...(cut ? [{ label: cut.label, color: cut.color, dash: "4 3", kind: "reference" as const }] : []),
  ];
  return (
    <ChartFrame testId={testId} legend={legend} {...frameProps(props)}>
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 600, height }}>
        <BarChart data={data} margin={{ top: 16, right: 24, bottom: 56, left: 16 }} barCategoryGap="4%">
          <CartesianGrid strokeDasharray="3 3" stroke="#e1e4e8" vertical={false} />
          <XAxis
            dataKey={index}
            tick={{ fontSize: 11 }}
            angle={-35}
            textAnchor="end"
            height={56}
            label={{ value: "|margin| of the lost election (log-spaced bins)", position: "insideBottom", offset: -48, fontSize: 12, fill: "#3d434c" }}
          />
          <YAxis
            tickFormatter={(v: number) => valueFormatter(v)}
            width={72}
            label={{ value: "SFT parameters", angle: -90, position: "insideLeft", style: { textAnchor: "middle" }, offset: 4, fontSize: 12, fill: "#3d434c" }}
            tick={{ fontSize: 12 }}
          />
          <Tooltip
            content={(p) => (
              <ChartTooltip
                active={p.active}
                payload={p.payload}
                label={p.label}
                config={config}
                valueFormatter={valueFormatter}
                detail={props.detail}
                title={(row) => `margin ${String(row[index])}`}
              />
            )}
          />
          {categories.map((c) => (
            <Bar key={c} dataKey={c} stackId="margins" name={config[c]!.label} fill={config[c]!.color} isAnimationActive={false} />
          ))}
          {cut ? <ReferenceLine x={cut.at} stroke={cut.color} strokeDasharray="4 3" strokeWidth={2} ifOverflow="extendDomain" data-testid="margin-cut" /> : null}
        </BarChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
