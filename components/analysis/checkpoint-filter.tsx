"use client";

import { memo } from "react";
import type { Checkpoint } from "@/server/services/charts/schemas";

/** Which CT checkpoints the figures show (kept in the URL; all by default). */
export const CheckpointFilter = memo(function CheckpointFilter({ checkpoints, selected, onChange }: { checkpoints: Checkpoint[]; selected: string[] | null; onChange: (ids: string[] | null) => void }) {
  if (checkpoints.length < 2) return null;
  const on = (id: string) => !selected || selected.includes(id);
  return (
    <fieldset className="inline-checks" data-testid="checkpoint-filter">
      <legend>Checkpoints</legend>
      {checkpoints.map((c) => (
        <label key={c.modelId} title={c.name}>
          <input
            type="checkbox"
            checked={on(c.modelId)}
            disabled={c.tokensB === null}
            onChange={() => {
              const cur = selected ?? checkpoints.map((x) => x.modelId);
              const next = on(c.modelId) ? cur.filter((x) => x !== c.modelId) : [...cur, c.modelId];
              onChange(next.length === checkpoints.length ? null : checkpoints.filter((x) => next.includes(x.modelId)).map((x) => x.modelId));
            }}
          />
          {c.label}
        </label>
      ))}
      {selected ? (
        <button type="button" className="btn btn-small" onClick={() => onChange(null)}>
          all
        </button>
      ) : null}
    </fieldset>
  );
});
