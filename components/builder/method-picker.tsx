"use client";

import { METHOD_INFO, METHODS, type Method } from "./methods";

/** Every merge method the engine runs, each with its one-line explanation. */
export function MethodPicker({ value, onChange }: { value: Method; onChange: (m: Method) => void }) {
  return (
    <fieldset data-testid="method-picker">
      <legend>Merge method</legend>
      <div className="method-options">
        {METHODS.map((m) => (
          <label key={m} className="method-option">
            <input type="radio" name="merge-method" value={m} checked={value === m} onChange={() => onChange(m)} />
            <span><strong>{METHOD_INFO[m].label}</strong> <code className="muted">{m}</code></span>
            <span className="hint">{METHOD_INFO[m].description}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}
