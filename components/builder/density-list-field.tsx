"use client";

import { useEffect, useState } from "react";
import { PAPER_GRID } from "./methods";

function parseList(text: string): number[] | null {
  const parts = text.split(/[\s,;]+/).filter((x) => x !== "");
  if (parts.length === 0 || parts.length > 20) return null;
  const nums = parts.map(Number);
  return nums.every((n) => Number.isFinite(n) && n >= 0 && n <= 1) ? nums : null;
}

/** A model's densities to sweep ("0.01, 0.2, 0.4"), with the paper's grid as a preset. */
export function DensityListField({ id, label, value, onChange }: { id: string; label: string; value: number[]; onChange: (v: number[]) => void }) {
  const [draft, setDraft] = useState(value.join(", "));
  useEffect(() => {
    setDraft((d) => (parseList(d)?.join(",") === value.join(",") ? d : value.join(", ")));
  }, [value]);
  const valid = parseList(draft) !== null;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="btn-row">
        <input
          id={id}
          type="text"
          value={draft}
          aria-invalid={!valid}
          aria-describedby={`${id}-hint`}
          onChange={(e) => {
            setDraft(e.target.value);
            const v = parseList(e.target.value);
            if (v) onChange(v);
          }}
          style={{ flex: 1, minWidth: "12rem" }}
        />
        <button type="button" className="btn btn-small" onClick={() => onChange([...PAPER_GRID])} aria-label={`Paper grid for ${label}`}>
          Paper grid
        </button>
      </div>
      <p className="hint" id={`${id}-hint`}>{valid ? "Comma-separated numbers in [0, 1]." : "Give up to 20 comma-separated numbers in [0, 1]."}</p>
    </div>
  );
}
