"use client";

import { CartesianGrid, ReferenceLine, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from "recharts";
import { ChartFrame, frameProps, type FigureFrameProps } from "./chart-frame";
import type { ChartConfig, ChartRow, LegendItem } from "./types";

export interface ScoreScatterChartProps extends FigureFrameProps {
  /** One point per merge: `x` (the statistic), `y` (the score), `group` (a key of `config`: its method) and `label`. */
  data: ChartRow[];
  groups: string[];
  config: ChartConfig;
  xLabel: string;
  yLabel: string;
  /** The least-squares line over the drawn range (null: not enough points to fit). */
  fit: { x1: number; y1: number; x2: number; y2: number; r: number; n: number } | null;
  height?: number;
}

/** Scores against a merge statistic: one dot per merge, coloured by method, with the fitted line. */
export function ScoreScatterChart(props: ScoreScatterChartProps) {
  const { data, groups, config, xLabel, yLabel, fit, height = 320 } = props;
  const legend: LegendItem[] = [
    ...groups.map((g) => ({ label: config[g]!.label, color: config[g]!.color, kind: "bar" as const })),
    ...(fit ? [{ label: `least squares (r = ${fit.r.toFixed(3)}, n = ${fit.n})`, color: "#3d434c", dash: "6 3", kind: "line" as const }] : []),
  ];
  return (
    <ChartFrame testId="chart-score-stats" legend={legend} {...frameProps(props)}>
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 600, height }}>
        <ScatterChart margin={{ top: 10, right: 24, bottom: 32, left: 16 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e1e4e8" />
          <XAxis type="number" dataKey="x" name={xLabel} domain={["auto", "auto"]} tick={{ fontSize: 12 }}
            tickFormatter={(v: number) => `${Number(v.toFixed(2))}`}
            label={{ value: xLabel, position: "insideBottom", offset: -18, fontSize: 12, fill: "#3d434c" }} />
          <YAxis type="number" dataKey="y" name={yLabel} domain={["auto", "auto"]} width={64} tick={{ fontSize: 12 }}
            tickFormatter={(v: number) => `${Number(v.toFixed(2))}`}
            label={{ value: yLabel, angle: -90, position: "insideLeft", style: { textAnchor: "middle" }, offset: 4, fontSize: 12, fill: "#3d434c" }} />
          <Tooltip
            content={(p) => {
              const row = (p.payload?.[0]?.payload ?? null) as ChartRow | null;
              if (!p.active || !row) return null;
              return (
                <div className="chart-tooltip" role="status">
                  <p className="chart-tooltip-title">{String(row.label)}</p>
                  <p>
                    {xLabel}: {Number(row.x).toFixed(4)}
                    <br />
                    {yLabel}: {Number(row.y).toFixed(2)}
                  </p>
                </div>
              );
            }}
          />
          {groups.map((g) => (
            <Scatter key={g} name={config[g]!.label} data={data.filter((r) => r.group === g)} fill={config[g]!.color} isAnimationActive={false} />
          ))}
          {fit ? (
            <ReferenceLine
              segment={[
                { x: fit.x1, y: fit.y1 },
                { x: fit.x2, y: fit.y2 },
              ]}
              stroke="#3d434c"
              strokeDasharray="6 3"
              ifOverflow="extendDomain"
            />
          ) : null}
        </ScatterChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
