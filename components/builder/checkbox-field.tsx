"use client";

import { useId, type ReactNode } from "react";

/** A checkbox with its label and a one-line (or longer) explanation. */
export function CheckboxField({ label, checked, onChange, hint }: { label: ReactNode; checked: boolean; onChange: (v: boolean) => void; hint: ReactNode }) {
  const id = useId();
  return (
    <div className="field">
      <label style={{ display: "inline-flex", gap: "0.4rem", alignItems: "center" }}>
        <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} aria-describedby={`${id}-hint`} />
        {label}
      </label>
      <p className="hint" id={`${id}-hint`}>{hint}</p>
    </div>
  );
}
