"use client";

import { memo, useEffect, useRef, useState } from "react";
import { ChartFrame, frameProps, type FigureFrameProps } from "./chart-frame";
import { formatTokensB } from "./format";
import type { ChartConfig, ChartRow, LegendItem } from "./types";

export interface GeometrySeriesPanel {
  key: string;
  label: string;
  /** One row per CT checkpoint: `index` (tokens in B), the norms (left axis) and the pair statistic (right axis). */
  rows: ChartRow[];
}

export interface GeometrySeriesChartProps extends FigureFrameProps {
  /** Small multiples: one panel per group (the whole model, a module or a layer), each with its own left scale. */
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
const MIN_PANEL = 280;
const GAP = 16;
const M = { top: 8, right: 40, bottom: 22, left: 52 };

/** Up to 4 round ticks from 0 to at least max. */
function niceTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / 3;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  const n = Math.ceil(max / step - 1e-9);
  return Array.from({ length: n + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

/** The width a container lays out at (re-measured on resize only, not on every render). */
function useWidth(fallback: number) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(MIN_PANEL, Math.floor(el.getBoundingClientRect().width)));
    measure();
    const obs = new ResizeObserver(measure);
    obs.observe(el);
    return () => obs.disconnect();
  }, []);
  return [ref, width] as const;
}

interface PanelProps {
  panel: GeometrySeriesPanel;
  index: string;
  left: string[];
  right: string;
  config: ChartConfig;
  rightDomain: [number, number];
  width: number;
  height: number;
}

/**
 * One panel as plain SVG: a dozen panels of a few points each re-draw within a frame, where a
 * Recharts chart apiece (measuring, layout, a tooltip layer) took several hundred ms.
 */
const Panel = memo(function Panel({ panel, index, left, right, config, rightDomain, width, height }: PanelProps) {
  const xs = panel.rows.map((r) => r[index]).filter((v): v is number => typeof v === "number");
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const pw = width - M.left - M.right;
  const ph = height - M.top - M.bottom;
  const sx = (v: number) => M.left + 8 + (x1 === x0 ? (pw - 16) / 2 : ((v - x0) / (x1 - x0)) * (pw - 16));
  const leftValues = panel.rows.flatMap((r) => left.map((k) => r[k])).filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const lTicks = niceTicks(leftValues.length ? Math.max(...leftValues) : 0);
  const lMax = lTicks.at(-1)!;
  const syL = (v: number) => M.top + ph - (v / lMax) * ph;
  const [r0, r1] = rightDomain;
  const syR = (v: number) => M.top + ph - ((v - r0) / (r1 - r0)) * ph;
  const rTicks = r0 < 0 ? [r0, 0, r1] : [r0, (r0 + r1) / 2, r1];
  const series = [...left.map((k) => ({ key: k, y: syL })), { key: right, y: syR }];
  return (
    <svg className="small-multiple-svg" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={panel.label} fontSize={10} fill="#3d434c">
      {lTicks.map((t) => (
        <g key={`l${t}`}>
          <line x1={M.left} x2={width - M.right} y1={syL(t)} y2={syL(t)} stroke="#e1e4e8" strokeDasharray="3 3" />
          <text x={M.left - 4} y={syL(t) + 3} textAnchor="end">
            {fmt(t)}
          </text>
        </g>
      ))}
      {rTicks.map((t) => (
        <text key={`r${t}`} x={width - M.right + 4} y={syR(t) + 3}>
          {fmt(t)}
        </text>
      ))}
      {xs.map((x) => (
        <text key={`x${x}`} x={sx(x)} y={height - 6} textAnchor="middle">
          {formatTokensB(x)}
        </text>
      ))}
      <line x1={M.left} x2={width - M.right} y1={M.top + ph} y2={M.top + ph} stroke="#9aa1ab" />
      {series.map(({ key, y }) => {
        const c = config[key]!;
        const pts = panel.rows.flatMap((r) => (typeof r[index] === "number" && typeof r[key] === "number" && Number.isFinite(r[key]) ? [[sx(r[index]), y(r[key])] as const] : []));
        return (
          <g key={key} data-series={key}>
            <polyline points={pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(" ")} fill="none" stroke={c.color} strokeWidth={2} strokeDasharray={c.dash} />
            {panel.rows.map((r) =>
              typeof r[index] === "number" && typeof r[key] === "number" && Number.isFinite(r[key]) ? (
                <circle key={r[index]} cx={sx(r[index])} cy={y(r[key])} r={2.75} fill="#fff" stroke={c.color} strokeWidth={1.25}>
                  <title>{`${panel.label} — ${formatTokensB(r[index])} CT tokens: ${c.label} ${fmt(r[key])}`}</title>
                </circle>
              ) : null,
            )}
          </g>
        );
      })}
    </svg>
  );
});

/** Task-vector geometry along the CT series: ‖τ_ct‖ (and ‖τ_sft‖) with a pair statistic per group, as small multiples. */
export function GeometrySeriesChart(props: GeometrySeriesChartProps) {
  const { data, index, left, right, config, rightDomain, panelHeight = 190 } = props;
  const [ref, width] = useWidth(900);
  const cols = Math.max(1, Math.floor((width + GAP) / (MIN_PANEL + GAP)));
  const panelWidth = Math.floor((width - GAP * (cols - 1)) / cols);
  const legend: LegendItem[] = [...left, right].map((k) => ({ label: config[k]!.label, color: config[k]!.color, dash: config[k]!.dash, kind: "line" }));
  return (
    <ChartFrame testId="chart-geometry" legend={legend} {...frameProps(props)}>
      <div className="small-multiples" data-small-multiples ref={ref} style={{ gridTemplateColumns: `repeat(${cols}, ${panelWidth}px)` }}>
        {data.map((panel) => (
          <div key={panel.key} className="small-multiple" data-panel={panel.label} data-testid="geometry-panel">
            <p className="small-multiple-title">{panel.label}</p>
            <Panel panel={panel} index={index} left={left} right={right} config={config} rightDomain={rightDomain} width={panelWidth} height={panelHeight} />
          </div>
        ))}
      </div>
    </ChartFrame>
  );
}
