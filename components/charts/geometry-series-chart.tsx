"use client";

import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ChartFrame, frameProps, type FigureFrameProps } from "./chart-frame";
import { tooltipContent } from "./chart-tooltip";
import { formatTokensB } from "./format";
import type { ChartConfig, ChartRow, LegendItem } from "./types";

export interface GeometrySeriesPanel {
  key: string;
  label: string;
  /** One row per CT checkpoint: `index` (tokens in B), the norms (left axis) and the pair statistic (right axis). */
  rows: ChartRow[];
}

export interface GeometrySeriesChartProps extends FigureFrameProps {
  /** Small multiples: one panel per group (the whole model, a module or a layer), each with its own scales. */
  data: GeometrySeriesPanel[];
  index: string;
  /** Keys drawn against the left axis (norms) and the right axis (a share or cosine). */
  left: string[];
  right: string;
  config: ChartConfig;
  /** The right axis' domain: [-1, 1] for a cosine, [0, 1] for shares. */
  rightDomain: [number, number];
  panelHeight?: number;
}

const fmt = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : Number(v.toPrecision(4)).toString());

/** Task-vector geometry along the CT series: ‖τ_ct‖ (and ‖τ_sft‖) with a pair statistic per group, as small multiples. */
export function GeometrySeriesChart(props: GeometrySeriesChartProps) {
  const { data, index, left, right, config, rightDomain, panelHeight = 190 } = props;
  const keys = [...left, right];
  const legend: LegendItem[] = keys.map((k) => ({ label: config[k]!.label, color: config[k]!.color, dash: config[k]!.dash, kind: "line" }));
  return (
    <ChartFrame testId="chart-geometry" legend={legend} {...frameProps(props)}>
      <div className="small-multiples" data-small-multiples>
        {data.map((panel) => (
          <div key={panel.key} className="small-multiple" data-panel={panel.label} data-testid="geometry-panel">
            <p className="small-multiple-title">{panel.label}</p>
            <ResponsiveContainer width="100%" height={panelHeight} initialDimension={{ width: 320, height: panelHeight }}>
              <LineChart data={panel.rows} margin={{ top: 6, right: 8, bottom: 4, left: 4 }}>
                <CartesianGrid strokeDasharray="3 3" stroke="#e1e4e8" />
                <XAxis type="number" dataKey={index} domain={["dataMin", "dataMax"]} ticks={panel.rows.map((r) => r[index]).filter((v): v is number => typeof v === "number")} tickFormatter={(v: number) => formatTokensB(v)} tick={{ fontSize: 10 }} padding={{ left: 8, right: 8 }} />
                <YAxis yAxisId="left" tickFormatter={fmt} width={52} tick={{ fontSize: 10 }} domain={[0, "auto"]} />
                <YAxis yAxisId="right" orientation="right" domain={rightDomain} tickFormatter={fmt} width={40} tick={{ fontSize: 10 }} />
                <Tooltip content={tooltipContent({ config, valueFormatter: fmt, detail: props.detail, title: (row) => `${panel.label} — ${formatTokensB(Number(row[index]))} CT tokens` })} />
                {keys.map((k) => (
                  <Line
                    key={k}
                    yAxisId={k === right ? "right" : "left"}
                    type="linear"
                    dataKey={k}
                    name={config[k]!.label}
                    stroke={config[k]!.color}
                    strokeDasharray={config[k]!.dash}
                    strokeWidth={2}
                    dot={{ r: 2.5, strokeWidth: 1.25, fill: "#fff", strokeDasharray: "" }}
                    connectNulls
                    isAnimationActive={false}
                  />
                ))}
              </LineChart>
            </ResponsiveContainer>
          </div>
        ))}
      </div>
    </ChartFrame>
  );
}
