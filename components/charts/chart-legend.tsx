import type { LegendItem } from "./types";

/** The legend under a figure (HTML, so it wraps; exports draw the same items into the SVG). */
export function ChartLegend({ items }: { items: LegendItem[] }) {
  if (items.length === 0) return null;
  return (
    <ul className="chart-legend" aria-label="Legend">
      {items.map((it) => (
        <li key={`${it.kind}:${it.label}`}>
          <svg width="26" height="12" aria-hidden="true">
            {it.kind === "bar" || it.kind === "area" ? (
              <rect x="1" y="1" width="24" height="10" fill={it.color} fillOpacity={it.kind === "area" ? 0.75 : 1} stroke={it.color} />
            ) : (
              <line x1="1" y1="6" x2="25" y2="6" stroke={it.color} strokeWidth="2.5" strokeDasharray={it.dash} />
            )}
          </svg>
          {it.label}
        </li>
      ))}
    </ul>
  );
}
