// Number formatting shared by the tables and the builder.

/** 106816 → "106.8K", 6.74e9 → "6.74B". */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  for (const [scale, unit] of [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
  ] as const) {
    if (Math.abs(n) >= scale) return `${Number((n / scale).toPrecision(4))}${unit}`;
  }
  return String(n);
}

/** Tokens as the paper writes them: 2B, 12.4B, 800M. */
export const formatTokens = formatCount;

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function formatDate(d: Date | string): string {
  const date = typeof d === "string" ? new Date(d) : d;
  return date.toLocaleString("en-GB", { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}
