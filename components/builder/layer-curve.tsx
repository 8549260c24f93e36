"use client";

import type { ParamSpec } from "@/server/engine/recipe/types";
import { evaluateSpec } from "@/server/engine/recipe/param-spec";

/** Values of a spec at each of `layers` layers (t = i / (layers - 1)) for a tensor named `tensor`. */
export function perLayerValues(spec: ParamSpec, layers: number, tensor = ""): (number | null)[] {
  const n = Math.max(1, Math.floor(layers));
  return Array.from({ length: n }, (_, i) => evaluateSpec(spec, tensor, n > 1 ? i / (n - 1) : 1));
}

/**
 * A gradient as a small per-layer curve: one dot per layer at the value mergekit gives that
 * layer (embeddings and the LM head take the first value). Values also in the accessible name.
 */
export function LayerCurve({ spec, layers, label, tensor = "" }: { spec: ParamSpec; layers: number; label: string; tensor?: string }) {
  const values = perLayerValues(spec, layers, tensor);
  const known = values.filter((v): v is number => v !== null);
  const lo = Math.min(0, ...known);
  const hi = Math.max(1, ...known);
  const w = 160;
  const h = 36;
  const x = (i: number) => (values.length > 1 ? 4 + (i * (w - 8)) / (values.length - 1) : w / 2);
  const y = (v: number) => h - 4 - ((v - lo) / (hi - lo || 1)) * (h - 8);
  const points = values.flatMap((v, i) => (v === null ? [] : [`${x(i).toFixed(1)},${y(v).toFixed(1)}`])).join(" ");
  const text = values.map((v, i) => `layer ${i}: ${v === null ? "—" : +v.toFixed(4)}`).join(", ");
  return (
    <svg
      data-testid="layer-curve"
      data-values={values.map((v) => (v === null ? "" : String(v))).join(",")}
      role="img"
      aria-label={`${label} per layer: ${text}`}
      width={w}
      height={h}
      viewBox={`0 0 ${w} ${h}`}
      className="layer-curve"
    >
      <title>{`${label} per layer: ${text}`}</title>
      <line x1={0} x2={w} y1={y(lo)} y2={y(lo)} stroke="var(--border)" />
      <polyline points={points} fill="none" stroke="var(--accent, #2563eb)" strokeWidth={1.5} />
      {values.map((v, i) => (v === null ? null : <circle key={i} cx={x(i)} cy={y(v)} r={2} fill="var(--accent, #2563eb)" />))}
    </svg>
  );
}
