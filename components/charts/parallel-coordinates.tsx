"use client";

import { useRef, useState, type PointerEvent as ReactPointerEvent } from "react";
import { ChartFrame, frameProps, type FigureFrameProps } from "./chart-frame";
import { passesBrushes } from "./brushes";
import type { Brushes, ChartConfig, ChartRow, LegendItem } from "./types";

/** A numeric axis (a range brush in data units) or a categorical one (a set of values). */
export interface ParallelAxis {
  key: string;
  label: string;
  kind: "number" | "category";
  /** Category axes: their values, bottom to top. */
  categories?: string[];
}


export interface ParallelCoordinatesProps extends FigureFrameProps {
  /** One line per row; `group` (a key of `config`) colours it. */
  data: ChartRow[];
  axes: ParallelAxis[];
  config: ChartConfig;
  brushes: Brushes;
  onBrushesChange: (b: Brushes) => void;
  height?: number;
}

const W = 920;
const PAD_X = 60;
const PAD_TOP = 28;
const PAD_BOTTOM = 24;
const SNAP_PX = 6;

/** Parallel coordinates over merges (the sweep view of W&B): drag along an axis to brush it; a click on an axis clears its brush. */
export function ParallelCoordinates(props: ParallelCoordinatesProps) {
  const { data, axes, config, brushes, onBrushesChange, height = 320 } = props;
  const svgRef = useRef<SVGSVGElement>(null);
  const [drag, setDrag] = useState<{ axis: string; y0: number; y1: number } | null>(null);
  const inner = height - PAD_TOP - PAD_BOTTOM;
  const xOf = (i: number) => PAD_X + (axes.length === 1 ? 0 : (i * (W - 2 * PAD_X)) / (axes.length - 1));
  const domains = new Map(
    axes.map((a) => {
      if (a.kind === "category") return [a.key, { lo: 0, hi: Math.max(1, (a.categories?.length ?? 1) - 1), only: null }];
      const vs = data.map((r) => r[a.key]).filter((v): v is number => typeof v === "number");
      const lo = vs.length ? Math.min(...vs) : 0;
      const hi = vs.length ? Math.max(...vs) : 1;
      // One value only: it sits mid-axis, labelled once.
      return [a.key, lo === hi ? { lo: lo - 0.5, hi: hi + 0.5, only: lo } : { lo, hi, only: null }];
    }),
  );
  const position = (a: ParallelAxis, v: string | number | null | undefined): number | null => {
    if (v === null || v === undefined) return null;
    const d = domains.get(a.key)!;
    const t = a.kind === "category" ? (a.categories ?? []).indexOf(String(v)) : (v as number);
    if (a.kind === "category" && t < 0) return null;
    const u = (a.kind === "category" && (a.categories?.length ?? 0) <= 1 ? 0.5 : (t - d.lo) / (d.hi - d.lo));
    return PAD_TOP + (1 - u) * inner;
  };
  const valueAt = (a: ParallelAxis, y: number) => {
    const d = domains.get(a.key)!;
    return d.lo + (1 - (y - PAD_TOP) / inner) * (d.hi - d.lo);
  };
  // Screen → viewBox coordinates through the SVG's own transform (exact under any scaling or letterboxing).
  const svgY = (e: ReactPointerEvent) => {
    const svg = svgRef.current!;
    const ctm = svg.getScreenCTM();
    if (!ctm) return 0;
    return new DOMPoint(e.clientX, e.clientY).matrixTransform(ctm.inverse()).y;
  };
  const finish = (a: ParallelAxis, y0: number, y1: number) => {
    const next = { ...brushes };
    if (Math.abs(y1 - y0) < 3) delete next[a.key];
    else {
      const [top, bottom] = [Math.min(y0, y1), Math.max(y0, y1)];
      if (a.kind === "category") {
        const values = (a.categories ?? []).filter((c) => {
          const p = position(a, c)!;
          return p >= top && p <= bottom;
        });
        next[a.key] = { kind: "set", values };
      } else {
        // A drag that starts or ends at an axis end includes that end's value (pixels cannot hit it exactly).
        const d = domains.get(a.key)!;
        const hi = top <= PAD_TOP + SNAP_PX ? d.hi : valueAt(a, top);
        const lo = bottom >= PAD_TOP + inner - SNAP_PX ? d.lo : valueAt(a, bottom);
        next[a.key] = { kind: "range", lo, hi };
      }
    }
    onBrushesChange(next);
  };
  const legend: LegendItem[] = Object.values(config).map((c) => ({ label: c.label, color: c.color, kind: "line" }));
  return (
    <ChartFrame testId="chart-parallel" legend={legend} {...frameProps(props)}>
      <svg ref={svgRef} viewBox={`0 0 ${W} ${height}`} width="100%" role="img" aria-label={`${data.length} merges across ${axes.map((a) => a.label).join(", ")}`} className="parallel">
        {data.map((row, i) => {
          const pts = axes.map((a, j) => [xOf(j), position(a, row[a.key])] as const).filter((p): p is readonly [number, number] => p[1] !== null);
          const on = passesBrushes(row, brushes);
          return (
            <polyline
              key={i}
              data-testid="parallel-line"
              data-selected={on}
              points={pts.map((p) => p.join(",")).join(" ")}
              fill="none"
              stroke={on ? (config[String(row.group)]?.color ?? "#555") : "#d0d4d9"}
              strokeWidth={on ? 1.8 : 1}
              opacity={on ? 0.9 : 0.5}
            />
          );
        })}
        {axes.map((a, j) => {
          const x = xOf(j);
          const b = brushes[a.key];
          const d = domains.get(a.key)!;
          let band: [number, number] | null = null;
          if (b?.kind === "range") band = [position(a, Math.min(d.hi, b.hi))!, position(a, Math.max(d.lo, b.lo))!];
          if (b?.kind === "set" && b.values.length) {
            const ps = b.values.map((v) => position(a, v)).filter((p): p is number => p !== null);
            if (ps.length) band = [Math.min(...ps) - 6, Math.max(...ps) + 6];
          }
          return (
            <g key={a.key} data-testid="parallel-axis" data-axis={a.key}>
              <line x1={x} x2={x} y1={PAD_TOP} y2={PAD_TOP + inner} stroke="#3d434c" />
              <text x={x} y={PAD_TOP - 10} textAnchor="middle" fontSize={12} fill="#1f2328">
                {a.label}
              </text>
              {a.kind === "category" ? (
                (a.categories ?? []).map((c) => (
                  <text key={c} x={x + 6} y={position(a, c)! + 4} fontSize={11} fill="#3d434c">
                    {c}
                  </text>
                ))
              ) : d.only !== null ? (
                <text x={x + 6} y={PAD_TOP + inner / 2 + 4} fontSize={11} fill="#3d434c">
                  {Number(d.only.toPrecision(4))}
                </text>
              ) : (
                <>
                  <text x={x + 6} y={PAD_TOP + 4} fontSize={11} fill="#3d434c">
                    {Number(d.hi.toPrecision(4))}
                  </text>
                  <text x={x + 6} y={PAD_TOP + inner + 4} fontSize={11} fill="#3d434c">
                    {Number(d.lo.toPrecision(4))}
                  </text>
                </>
              )}
              {band ? <rect x={x - 7} y={band[0]} width={14} height={Math.max(2, band[1] - band[0])} fill="#0072B2" opacity={0.25} data-testid="parallel-brush" /> : null}
              {drag?.axis === a.key ? <rect x={x - 7} y={Math.min(drag.y0, drag.y1)} width={14} height={Math.abs(drag.y1 - drag.y0)} fill="#0072B2" opacity={0.35} /> : null}
              <rect
                x={x - 12}
                y={PAD_TOP}
                width={24}
                height={inner}
                fill="transparent"
                style={{ cursor: "ns-resize", touchAction: "none" }}
                data-testid="parallel-brush-area"
                onPointerDown={(e) => {
                  (e.target as Element).setPointerCapture?.(e.pointerId);
                  const y = svgY(e);
                  setDrag({ axis: a.key, y0: y, y1: y });
                }}
                onPointerMove={(e) => drag?.axis === a.key && setDrag({ ...drag, y1: svgY(e) })}
                onPointerUp={(e) => {
                  if (drag?.axis !== a.key) return;
                  finish(a, drag.y0, svgY(e));
                  setDrag(null);
                }}
              />
            </g>
          );
        })}
      </svg>
    </ChartFrame>
  );
}
