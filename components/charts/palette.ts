// Okabe–Ito colours (colour-blind safe) and the fixed style of each model
// family, so a method has the same colour in every figure. Lines also differ
// by dash pattern, so the figures read in greyscale too.
export const OKABE_ITO = {
  black: "#000000",
  orange: "#E69F00",
  sky: "#56B4E9",
  green: "#009E73",
  yellow: "#F0E442",
  blue: "#0072B2",
  vermillion: "#D55E00",
  purple: "#CC79A7",
  grey: "#999999",
} as const;

export interface SeriesStyle {
  color: string;
  /** SVG stroke-dasharray; undefined = solid. */
  dash?: string;
}

/** The paper's Figure 2 colours where it has them: TIES blue, CTSFT red(dish), CT grey. */
export const FAMILY_STYLES: Record<string, SeriesStyle> = {
  CT: { color: "#595959", dash: "5 3" },
  CTSFT: { color: OKABE_ITO.vermillion, dash: "7 3" },
  ties: { color: OKABE_ITO.blue },
  ties_sv: { color: OKABE_ITO.green },
  linear: { color: OKABE_ITO.orange, dash: "10 3 2 3" },
  task_arithmetic: { color: OKABE_ITO.purple, dash: "4 2" },
  BASE: { color: OKABE_ITO.black, dash: "5 4" },
  SFT: { color: OKABE_ITO.sky, dash: "1 3" },
};

/** Further density variants of one method: same colour, other dash. */
export const VARIANT_DASHES = [undefined, "6 3", "2 2", "9 3 2 3", "12 4", "3 5"];

/** Figure 3: the paper's cyan (elects SFT sign) and a contrast-safe orange for its yellow (elects CT sign). */
export const FIG3_COLORS = { electsSft: OKABE_ITO.sky, electsCt: OKABE_ITO.orange } as const;
export const FIG4_COLORS = { ties: OKABE_ITO.blue, tiesSv: OKABE_ITO.green, sce: OKABE_ITO.vermillion, della: OKABE_ITO.purple } as const;

/** Sequential scale for the heatmap (light → dark blue, readable for every colour vision). */
export function heatColor(t: number): string {
  const x = Math.min(1, Math.max(0, t));
  // interpolate #f7fbff → #08306b (ColorBrewer Blues ends)
  const a = [0xf7, 0xfb, 0xff];
  const b = [0x08, 0x30, 0x6b];
  const c = a.map((v, i) => Math.round(v + (b[i]! - v) * x));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}
