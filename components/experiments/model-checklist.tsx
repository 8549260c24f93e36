"use client";

import { formatTokens } from "@/components/common/format";
import type { ModelSummary } from "@/server/services/models/schemas";

/** A labelled group of model checkboxes with select all / none. */
export function ModelChecklist({
  legend,
  models,
  selected,
  onChange,
  empty,
  testId,
}: {
  legend: string;
  models: ModelSummary[];
  selected: string[];
  onChange: (ids: string[]) => void;
  empty: string;
  testId?: string;
}) {
  const toggle = (id: string, on: boolean) => onChange(on ? [...selected, id] : selected.filter((x) => x !== id));
  return (
    <fieldset data-testid={testId}>
      <legend>{legend}</legend>
      {models.length === 0 ? (
        <p className="hint">{empty}</p>
      ) : (
        <>
          <div className="checklist">
            {models.map((m) => (
              <label key={m.id}>
                <input type="checkbox" checked={selected.includes(m.id)} onChange={(e) => toggle(m.id, e.target.checked)} />
                {m.name}
                {m.ctTokens !== null ? <span className="muted"> ({formatTokens(m.ctTokens)})</span> : null}
                {m.language ? <span className="muted"> · {m.language}</span> : null}
              </label>
            ))}
          </div>
          <div className="btn-row" style={{ marginTop: "0.4rem" }}>
            <button type="button" className="btn btn-small" onClick={() => onChange(models.map((m) => m.id))}>Select all</button>
            <button type="button" className="btn btn-small" onClick={() => onChange([])}>None</button>
          </div>
        </>
      )}
    </fieldset>
  );
}
