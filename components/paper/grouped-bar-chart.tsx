"use client";

import { Bar, BarChart, CartesianGrid, Legend, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

/** Okabe–Ito, colour-blind safe; black last. */
export const CHART_COLORS = ["#999999", "#56B4E9", "#E69F00", "#CC79A7", "#0072B2", "#D55E00", "#009E73", "#000000"];

export interface GroupedBarChartProps {
  /** One object per group (x position): `index` names the group, each category its bar's value. */
  data: Record<string, string | number | null>[];
  index: string;
  categories: string[];
  valueFormatter?: (value: number) => string;
  colors?: string[];
  height?: number;
  yLabel?: string;
  /** Horizontal reference lines (e.g. the paper's numbers over an experiment's chart). */
  referenceLines?: { value: number; label: string }[];
  "data-testid"?: string;
  /** Accessible name of the chart figure. */
  title: string;
}

const defaultFormatter = (v: number) => String(v);

/** Grouped bars: one group per `data` row, one bar per category. */
export function GroupedBarChart({ data, index, categories, valueFormatter = defaultFormatter, colors = CHART_COLORS, height = 360, yLabel, referenceLines, title, ...rest }: GroupedBarChartProps) {
  return (
    <figure className="chart" data-testid={rest["data-testid"]} aria-label={title} role="figure">
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 960, height }}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey={index} tick={{ fontSize: 12 }} interval={0} />
          <YAxis tickFormatter={(v: number) => valueFormatter(v)} tick={{ fontSize: 12 }} label={yLabel ? { value: yLabel, angle: -90, position: "insideLeft", style: { fontSize: 12 } } : undefined} />
          <Tooltip formatter={(v) => (typeof v === "number" ? valueFormatter(v) : String(v))} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {categories.map((c, i) => (
            <Bar key={c} dataKey={c} name={c} fill={colors[i % colors.length]} isAnimationActive={false} />
          ))}
          {referenceLines?.map((r) => <ReferenceLine key={r.label} y={r.value} stroke="#333" strokeDasharray="4 2" label={{ value: r.label, position: "right", fontSize: 11 }} />)}
        </BarChart>
      </ResponsiveContainer>
      <figcaption className="sr-only">{title}</figcaption>
    </figure>
  );
}
