"use client";

import { useId } from "react";
import { MODEL_ROLES } from "@/components/common/roles";

export interface ModelFilterValues {
  role: string;
  language: string;
  search: string;
}

/** Role, language and text filters of the models list (kept in the URL by the parent). */
export function ModelFilters({ value, onChange }: { value: ModelFilterValues; onChange: (patch: Partial<ModelFilterValues>) => void }) {
  const id = useId();
  return (
    <div className="row" role="search" aria-label="Filter models" data-testid="model-filters">
      <div className="field">
        <label htmlFor={`${id}-role`}>Role</label>
        <select id={`${id}-role`} value={value.role} onChange={(e) => onChange({ role: e.target.value })}>
          <option value="">All roles</option>
          {MODEL_ROLES.map((r) => (
            <option key={r} value={r}>{r}</option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-lang`}>Language</label>
        <input id={`${id}-lang`} type="text" value={value.language} onChange={(e) => onChange({ language: e.target.value })} size={8} placeholder="any" />
      </div>
      <div className="field field-grow">
        <label htmlFor={`${id}-q`}>Name or path contains</label>
        <input id={`${id}-q`} type="search" value={value.search} onChange={(e) => onChange({ search: e.target.value })} placeholder="ct-" />
      </div>
    </div>
  );
}
