import type { ReactNode } from "react";
import type { ChartConfig, ChartRow } from "./types";

interface TooltipEntry {
  dataKey?: unknown;
  value?: unknown;
  color?: string;
  payload?: unknown;
}

export interface ChartTooltipProps {
  active?: boolean;
  payload?: readonly TooltipEntry[];
  label?: string | number;
  config: ChartConfig;
  valueFormatter: (v: number) => string;
  title: (row: ChartRow, label: string | number | undefined) => ReactNode;
  /** A second line per series with the exact counts behind the value. */
  detail?: (row: ChartRow, key: string) => string | null;
}

/** Tooltip content with exact values (and the counts behind them) for every series at the hovered point. */
export function ChartTooltip({ active, payload, label, config, valueFormatter, title, detail }: ChartTooltipProps) {
  if (!active || !payload || payload.length === 0) return null;
  const row = (payload[0]?.payload ?? {}) as ChartRow;
  const items = payload.filter((p) => typeof p.value === "number" && typeof p.dataKey === "string" && config[p.dataKey]);
  return (
    <div className="chart-tooltip" role="status">
      <p className="chart-tooltip-title">{title(row, label)}</p>
      <ul>
        {items.map((p) => {
          const key = p.dataKey as string;
          const c = config[key]!;
          const d = detail?.(row, key);
          return (
            <li key={key} style={{ flexWrap: "wrap" }}>
              <span className="swatch" style={{ background: c.color }} aria-hidden="true" />
              <span>{c.label}</span>
              <span className="value">{valueFormatter(p.value as number)}</span>
              {d ? <span className="detail" style={{ flexBasis: "100%" }}>{d}</span> : null}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** Recharts' `<Tooltip content>` for a ChartTooltip: the figures pass their config, formatter and title once. */
export function tooltipContent(opts: Omit<ChartTooltipProps, "active" | "payload" | "label">) {
  return function TooltipContent(p: { active?: boolean; payload?: readonly TooltipEntry[]; label?: string | number }) {
    return <ChartTooltip active={p.active} payload={p.payload} label={p.label} {...opts} />;
  };
}
