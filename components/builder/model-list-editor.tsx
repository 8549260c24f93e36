"use client";

import { useId, useState } from "react";
import type { ModelSummary } from "@/server/services/models/schemas";
import { PARAM_HELP, UNWEIGHTED_HINT, type Method, baseOptional, usesBaseModel, usesDensity, usesGamma, usesWeight } from "./methods";
import { ModelOptions } from "./model-options";
import { ModelParamsRow } from "./model-params-row";
import { newModelEntry, type BuilderModelState } from "./url-state";

/** The base model and the models to merge (recipe order), with their parameters. */
export function ModelListEditor({
  models,
  method,
  layers,
  base,
  entries,
  onBase,
  onEntries,
}: {
  models: ModelSummary[];
  method: Method;
  /** Layers the per-layer curves are drawn for. */
  layers: number;
  base: string | null;
  entries: BuilderModelState[];
  onBase: (id: string | null) => void;
  onEntries: (entries: BuilderModelState[]) => void;
}) {
  const id = useId();
  const [adding, setAdding] = useState("");
  const update = (i: number, patch: Partial<BuilderModelState>) =>
    onEntries(
      entries.map((e, j) => {
        if (j === i) return { ...e, ...patch };
        // only one model can be favored
        return patch.favored ? { ...e, favored: false } : e;
      }),
    );
  return (
    <div className="stack" data-testid="model-list-editor">
      <div className="field">
        <label htmlFor={`${id}-base`}>Base model</label>
        <select id={`${id}-base`} value={base ?? ""} onChange={(e) => onBase(e.target.value || null)} disabled={!usesBaseModel(method)} aria-describedby={`${id}-base-hint`}>
          <option value="">No base model</option>
          {base && !models.some((m) => m.id === base) ? <option value={base}>(not registered: {base})</option> : null}
          <ModelOptions models={models} />
        </select>
        <p className="hint" id={`${id}-base-hint`}>
          {!usesBaseModel(method)
            ? "Linear averages the models below; it uses no base model."
            : baseOptional(method)
              ? `${PARAM_HELP.base} Optional for ${method}: without one the models themselves are interpolated${method === "karcher" ? " (with one, karcher averages it too, as mergekit does)" : ""}.`
              : PARAM_HELP.base}
        </p>
      </div>
      <fieldset>
        <legend>Models to merge</legend>
        <p className="hint" style={{ marginTop: 0 }}>
          {usesWeight(method) ? <>Weight: {PARAM_HELP.weight}</> : UNWEIGHTED_HINT[method]}
          {usesDensity(method) ? <> Density: {PARAM_HELP.density}</> : null}
          {usesGamma(method) ? <> Gamma: {PARAM_HELP.gamma}</> : null}
          {method === "ties_sv" ? <> Favored: {PARAM_HELP.favored}</> : null}
        </p>
        {entries.length === 0 ? (
          <p className="empty">No models yet: pick an experiment above or add models here.</p>
        ) : (
          <div className="model-rows">
            {entries.map((e, i) => (
              <ModelParamsRow
                key={`${i}-${e.id}`}
                index={i}
                value={e}
                models={models}
                method={method}
              layers={layers}
                onChange={(patch) => update(i, patch)}
                onRemove={() => onEntries(entries.filter((_, j) => j !== i))}
              />
            ))}
          </div>
        )}
        <div className="row" style={{ marginTop: "0.6rem" }}>
          <div className="field field-grow">
            <label htmlFor={`${id}-add`}>Add a model</label>
            <select id={`${id}-add`} value={adding} onChange={(e) => setAdding(e.target.value)}>
              <option value="">Choose a model</option>
              <ModelOptions models={models} />
            </select>
          </div>
          <button
            type="button"
            className="btn"
            disabled={!adding}
            onClick={() => {
              onEntries([...entries, newModelEntry(adding)]);
              setAdding("");
            }}
          >
            Add
          </button>
        </div>
      </fieldset>
    </div>
  );
}
