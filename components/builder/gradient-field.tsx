"use client";

import { useEffect, useId, useState, type ReactNode } from "react";
import type { ParamSpec } from "@/server/engine/recipe/types";
import { LayerCurve } from "./layer-curve";

/** "0.2, 0.5, 0.8" → [0.2, 0.5, 0.8]; null when a point is not a number in range. */
export function parsePoints(text: string, min = -Infinity, max = Infinity): number[] | null {
  const parts = text.split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (parts.length === 0) return null;
  const values = parts.map(Number);
  return values.every((v) => Number.isFinite(v) && v >= min && v <= max) ? values : null;
}

/**
 * A numeric parameter that may vary over the layers (mergekit gradients and filter lists).
 * One value: `children` (the plain control) and a "Per layer" button. A gradient: its points
 * and the per-layer curve. Filter conditions: listed, with their curves. "One value" returns
 * to a plain number.
 */
export function GradientField({
  label,
  value,
  spec,
  layers,
  min,
  max,
  onSpec,
  children,
}: {
  label: string;
  value: number;
  spec: ParamSpec | undefined;
  layers: number;
  min?: number;
  max?: number;
  onSpec: (spec: ParamSpec | undefined, value?: number) => void;
  children: ReactNode;
}) {
  const id = useId();
  const gradient = Array.isArray(spec) && (spec.length === 0 || typeof spec[0] === "number") ? (spec as number[]) : null;
  const [draft, setDraft] = useState(gradient?.join(", ") ?? "");
  useEffect(() => {
    setDraft((d) => (gradient && parsePoints(d, min, max)?.join(",") === gradient.join(",") ? d : (gradient?.join(", ") ?? "")));
  }, [gradient?.join(","), min, max]); // eslint-disable-line react-hooks/exhaustive-deps
  if (spec === undefined || typeof spec === "number") {
    return (
      <div className="gradient-field">
        {children}
        <button type="button" className="btn btn-small" onClick={() => onSpec([value, value])} aria-label={`${label} per layer`}>
          Per layer
        </button>
      </div>
    );
  }
  const first = gradient ? gradient[0]! : value;
  return (
    <div className="gradient-field" data-testid="gradient-field">
      {gradient ? (
        <>
          <input
            id={id}
            type="text"
            value={draft}
            aria-label={`${label} gradient points`}
            aria-invalid={parsePoints(draft, min, max) === null}
            style={{ width: "11rem" }}
            onChange={(e) => {
              setDraft(e.target.value);
              const points = parsePoints(e.target.value, min, max);
              if (points) onSpec(points, points[0]);
            }}
          />
          <LayerCurve spec={spec} layers={layers} label={label} />
        </>
      ) : (
        <ul className="filter-list" aria-label={`${label} filters`}>
          {(spec as Exclude<ParamSpec, number | number[]>).map((c, i) => (
            <li key={i}>
              <code>{c.filter === null ? "(other tensors)" : c.filter}</code> → {Array.isArray(c.value) ? `[${c.value.join(", ")}]` : c.value}
              {Array.isArray(c.value) ? <LayerCurve spec={c.value} layers={layers} label={`${label} (${c.filter ?? "other tensors"})`} /> : null}
            </li>
          ))}
        </ul>
      )}
      <button type="button" className="btn btn-small" onClick={() => onSpec(undefined, first)} aria-label={`${label}: one value`}>
        One value
      </button>
    </div>
  );
}
