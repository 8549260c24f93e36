// Shared axis settings of the charts (spread onto Recharts' <YAxis>, which must stay a direct child of its chart).

/** A percentage y axis with a rotated label (Figures 3–4, the comparisons). */
export function pctYAxisProps(label: string) {
  return {
    tickFormatter: (v: number) => `${Number(v.toFixed(2))}`,
    width: 64,
    label: { value: label, angle: -90, position: "insideLeft" as const, style: { textAnchor: "middle" as const }, offset: 4, fontSize: 12, fill: "#3d434c" },
    tick: { fontSize: 12 },
  };
}
