"use client";

import type { ModelSummary } from "@/server/services/models/schemas";

/** A labelled single-model select. */
export function ModelSelect({
  id,
  label,
  models,
  value,
  onChange,
  placeholder,
  required,
}: {
  id: string;
  label: string;
  models: ModelSummary[];
  value: string;
  onChange: (id: string) => void;
  placeholder: string;
  required?: boolean;
}) {
  return (
    <div className="field field-grow">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} required={required}>
        <option value="">{placeholder}</option>
        {models.map((m) => (
          <option key={m.id} value={m.id}>
            {m.name}
            {m.language ? ` (${m.language})` : ""}
          </option>
        ))}
      </select>
    </div>
  );
}
