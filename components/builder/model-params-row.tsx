"use client";

import { useId } from "react";
import type { ModelSummary } from "@/server/services/models/schemas";
import { PAPER_GRID, PARAM_HELP, type Method, usesDensity, usesEpsilon, usesGamma, usesWeight } from "./methods";
import { ModelOptions } from "./model-options";
import { NumberField } from "./number-field";
import type { BuilderModelState } from "./url-state";

/**
 * One merged model: which one and the parameters its method uses — weight,
 * density (slider), gamma for Model Breadcrumbs, epsilon for DELLA, favored for TIES-SV.
 */
export function ModelParamsRow({
  index,
  value,
  models,
  method,
  onChange,
  onRemove,
}: {
  index: number;
  value: BuilderModelState;
  models: ModelSummary[];
  method: Method;
  onChange: (patch: Partial<BuilderModelState>) => void;
  onRemove: () => void;
}) {
  const id = useId();
  const known = models.some((m) => m.id === value.id);
  const name = models.find((m) => m.id === value.id)?.name ?? value.id;
  return (
    <div className="model-row" data-testid="builder-model-row" data-index={index}>
      <div className="model-row-head">
        <label htmlFor={`${id}-model`} className="sr-only">Model {index + 1}</label>
        <span className="muted">models[{index}]</span>
        <select id={`${id}-model`} value={value.id} onChange={(e) => onChange({ id: e.target.value })} style={{ flex: 1 }}>
          {known ? null : <option value={value.id}>(not registered: {value.id})</option>}
          <ModelOptions models={models} />
        </select>
        <button type="button" className="btn btn-small" onClick={onRemove} aria-label={`Remove ${name}`}>Remove</button>
      </div>
      <div className="row">
        {usesWeight(method) ? (
          <div className="field">
            <label htmlFor={`${id}-w`} title={PARAM_HELP.weight}>Weight</label>
            <NumberField id={`${id}-w`} value={value.weight} onChange={(weight) => onChange({ weight })} step={0.1} width="5.5rem" />
          </div>
        ) : null}
        {usesDensity(method) ? (
          <div className="field field-grow">
            <label htmlFor={`${id}-d`}>Density</label>
            <div className="density">
              <input
                id={`${id}-d`}
                type="range"
                min={0}
                max={1}
                step={0.01}
                value={value.density}
                list={`${id}-grid`}
                onChange={(e) => onChange({ density: Number(e.target.value) })}
                aria-valuetext={`density ${value.density}`}
              />
              <datalist id={`${id}-grid`}>
                {PAPER_GRID.map((g) => (
                  <option key={g} value={g} />
                ))}
              </datalist>
              <NumberField value={value.density} onChange={(density) => onChange({ density })} min={0} max={1} step={0.01} label={`Density of ${name}`} width="5rem" />
            </div>
          </div>
        ) : null}
        {usesGamma(method) ? (
          <div className="field">
            <label htmlFor={`${id}-g`} title={PARAM_HELP.gamma}>Gamma</label>
            <NumberField id={`${id}-g`} value={value.gamma} onChange={(gamma) => onChange({ gamma })} min={0} max={1} step={0.01} width="5rem" />
          </div>
        ) : null}
        {usesEpsilon(method) ? (
          <div className="field">
            <label htmlFor={`${id}-e`} title={PARAM_HELP.epsilon}>Epsilon</label>
            <NumberField id={`${id}-e`} value={value.epsilon} onChange={(epsilon) => onChange({ epsilon })} min={0} max={1} step={0.01} width="5rem" />
          </div>
        ) : null}
        {method === "ties_sv" ? (
          <div className="field">
            <span className="label" id={`${id}-fav-label`}>Favored</span>
            <label style={{ display: "inline-flex", gap: "0.3rem", alignItems: "center", fontWeight: "normal" }}>
              <input type="radio" name="favored-model" checked={value.favored} onChange={() => onChange({ favored: true })} aria-describedby={`${id}-fav-label`} />
              favored
            </label>
          </div>
        ) : null}
      </div>
    </div>
  );
}
