// Exports of a figure: CSV (the data table), SVG (the chart with its title and
// legend drawn in, standalone, white background) and PNG (the SVG rasterised at
// 2×). Browser-only helpers.
import { csvText } from "./format";
import type { ChartTable, LegendItem } from "./types";

export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName;
  a.rel = "noopener";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadCsv(table: ChartTable, fileName: string): void {
  downloadBlob(new Blob([csvText(table)], { type: "text/csv;charset=utf-8" }), `${fileName}.csv`);
}

const SVG_NS = "http://www.w3.org/2000/svg";

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The chart's own <svg> inside a figure: Recharts' surface, or an element marked data-chart-svg. */
export function chartSvgOf(root: HTMLElement): SVGSVGElement | null {
  const multiples = root.querySelector<HTMLElement>("[data-small-multiples]");
  if (multiples) return smallMultiplesSvg(multiples);
  return root.querySelector<SVGSVGElement>("svg[data-chart-svg]") ?? root.querySelector<SVGSVGElement>("svg.recharts-surface");
}

/** Small multiples (elements marked data-panel, each with a caption and one chart) as one SVG laid out as on screen. */
function smallMultiplesSvg(grid: HTMLElement): SVGSVGElement | null {
  const origin = grid.getBoundingClientRect();
  const out = document.createElementNS(SVG_NS, "svg");
  let width = 0;
  let height = 0;
  for (const panel of grid.querySelectorAll<HTMLElement>("[data-panel]")) {
    const chart = panel.querySelector<SVGSVGElement>("svg");
    if (!chart) continue;
    const box = chart.getBoundingClientRect();
    const x = Math.round(box.left - origin.left);
    const y = Math.round(box.top - origin.top);
    const g = document.createElementNS(SVG_NS, "g");
    g.setAttribute("transform", `translate(${x} ${y})`);
    const label = document.createElementNS(SVG_NS, "text");
    label.setAttribute("x", "8");
    label.setAttribute("y", "-4");
    label.setAttribute("font-size", "12");
    label.setAttribute("font-weight", "600");
    label.textContent = panel.getAttribute("data-panel");
    g.append(label, chart.cloneNode(true));
    out.append(g);
    width = Math.max(width, x + Math.round(box.width));
    height = Math.max(height, y + Math.round(box.height));
  }
  if (!out.childElementCount) return null;
  out.setAttribute("width", String(width));
  out.setAttribute("height", String(height));
  return out;
}

/** A standalone SVG document: title, subtitle, the chart, and the legend below it. */
export function composeSvg(chart: SVGSVGElement, opts: { title: string; subtitle?: string; legend: LegendItem[] }): { svg: string; width: number; height: number } {
  const box = chart.getBoundingClientRect();
  const w = Math.round(Number(chart.getAttribute("width")) || box.width || 800);
  const h = Math.round(Number(chart.getAttribute("height")) || box.height || 400);
  const clone = chart.cloneNode(true) as SVGSVGElement;
  clone.setAttribute("xmlns", SVG_NS);
  clone.setAttribute("width", String(w));
  clone.setAttribute("height", String(h));
  if (!clone.getAttribute("viewBox")) clone.setAttribute("viewBox", `0 0 ${w} ${h}`);
  clone.removeAttribute("style");
  // The legend wraps into rows of at most `width`.
  const font = 12;
  const items = opts.legend.map((it) => ({ ...it, w: 34 + it.label.length * font * 0.56 }));
  const rows: (typeof items)[] = [[]];
  let x = 0;
  for (const it of items) {
    if (x + it.w > w - 16 && rows.at(-1)!.length > 0) {
      rows.push([]);
      x = 0;
    }
    rows.at(-1)!.push(it);
    x += it.w;
  }
  // The subtitle wraps to the chart's width (about 6.6 px per character at 12 px).
  const perLine = Math.max(20, Math.floor((w - 16) / 6.6));
  const subLines: string[] = [];
  for (const word of (opts.subtitle ?? "").split(/\s+/).filter(Boolean)) {
    const last = subLines.at(-1);
    if (last !== undefined && (last + " " + word).length <= perLine) subLines[subLines.length - 1] = `${last} ${word}`;
    else subLines.push(word);
  }
  const top = 30 + subLines.length * 16;
  const legendH = items.length ? rows.length * 20 + 8 : 0;
  const total = top + h + legendH;
  const legendSvg = rows
    .map((row, r) => {
      let cx = 8;
      return row
        .map((it) => {
          const y = top + h + 14 + r * 20;
          const swatch =
            it.kind === "bar" || it.kind === "area"
              ? `<rect x="${cx}" y="${y - 6}" width="22" height="10" fill="${it.color}" fill-opacity="${it.kind === "area" ? 0.75 : 1}" stroke="${it.color}"/>`
              : `<line x1="${cx}" y1="${y - 1}" x2="${cx + 22}" y2="${y - 1}" stroke="${it.color}" stroke-width="2.5"${it.dash ? ` stroke-dasharray="${it.dash}"` : ""}/>`;
          const text = `<text x="${cx + 28}" y="${y + 3}" font-size="${font}" fill="#1b1d21">${esc(it.label)}</text>`;
          cx += it.w;
          return swatch + text;
        })
        .join("");
    })
    .join("");
  const svg =
    `<svg xmlns="${SVG_NS}" width="${w}" height="${total}" viewBox="0 0 ${w} ${total}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif">` +
    `<rect width="100%" height="100%" fill="#ffffff"/>` +
    `<text x="8" y="20" font-size="15" font-weight="700" fill="#1b1d21">${esc(opts.title)}</text>` +
    subLines.map((line, i) => `<text x="8" y="${38 + i * 16}" font-size="12" fill="#5d6470">${esc(line)}</text>`).join("") +
    `<g transform="translate(0 ${top})">${new XMLSerializer().serializeToString(clone)}</g>` +
    legendSvg +
    `</svg>`;
  return { svg, width: w, height: total };
}

export function downloadSvg(svg: string, fileName: string): void {
  downloadBlob(new Blob([svg], { type: "image/svg+xml;charset=utf-8" }), `${fileName}.svg`);
}

export async function downloadPng(svg: string, width: number, height: number, fileName: string, scale = 2): Promise<void> {
  const url = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml;charset=utf-8" }));
  try {
    const img = new Image();
    img.decoding = "async";
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error("the chart could not be rasterised"));
      img.src = url;
    });
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const g = canvas.getContext("2d");
    if (!g) throw new Error("no 2D canvas in this browser");
    g.fillStyle = "#ffffff";
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.drawImage(img, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/png"));
    if (!blob) throw new Error("PNG encoding failed");
    downloadBlob(blob, `${fileName}.png`);
  } finally {
    URL.revokeObjectURL(url);
  }
}
