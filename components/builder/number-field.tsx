"use client";

import { useEffect, useState } from "react";

/**
 * A number input that lets the user type freely ("0.", "-", "") and reports
 * only valid numbers in [min, max] (whole numbers with `integer`); an invalid
 * draft is marked, not lost.
 */
export function NumberField({
  id,
  value,
  onChange,
  min,
  max,
  step,
  integer,
  label,
  describedBy,
  width,
}: {
  id?: string;
  value: number;
  onChange: (v: number) => void;
  min?: number;
  max?: number;
  step?: number;
  integer?: boolean;
  /** aria-label when there is no visible <label>. */
  label?: string;
  describedBy?: string;
  width?: string;
}) {
  const [draft, setDraft] = useState(String(value));
  const accepts = (n: number) =>
    Number.isFinite(n) && (min === undefined || n >= min) && (max === undefined || n <= max) && (!integer || Number.isInteger(n));
  const valid = accepts(draft.trim() === "" ? NaN : Number(draft));
  useEffect(() => {
    // follow changes made elsewhere (slider, pasted YAML) unless the draft already says so
    setDraft((d) => (Number(d) === value && d.trim() !== "" ? d : String(value)));
  }, [value]);
  return (
    <input
      id={id}
      type="number"
      inputMode="decimal"
      value={draft}
      min={min}
      max={max}
      step={step ?? "any"}
      aria-label={label}
      aria-describedby={describedBy}
      aria-invalid={!valid}
      style={width ? { width } : undefined}
      onChange={(e) => {
        setDraft(e.target.value);
        const n = e.target.value.trim() === "" ? NaN : Number(e.target.value);
        if (accepts(n)) onChange(n);
      }}
      onBlur={() => {
        if (!valid) setDraft(String(value));
      }}
    />
  );
}
