"use client";

import { useId } from "react";
import type { ModelSummary } from "@/server/services/models/schemas";
import { PAPER_GRID, PARAM_HELP, type Method, usesDensity, usesEpsilon, usesGamma, usesWeight } from "./methods";
import type { ParamSpec } from "@/server/engine/recipe/types";
import { GradientField } from "./gradient-field";
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
  layers,
  onChange,
  onRemove,
}: {
  index: number;
  value: BuilderModelState;
  models: ModelSummary[];
  method: Method;
  /** Layers the per-layer curves are drawn for. */
  layers: number;
  onChange: (patch: Partial<BuilderModelState>) => void;
  onRemove: () => void;
}) {
  const id = useId();
  const known = models.some((m) => m.id === value.id);
  const name = models.find((m) => m.id === value.id)?.name ?? value.id;
  // A gradient / filter list for one parameter, or back to the plain value.
  const setSpec = (key: "weight" | "density" | "gamma" | "scale") => (spec: ParamSpec | undefined, plain?: number) => {
    const { [key]: _old, ...rest } = value.parameters ?? {};
    const parameters = spec === undefined ? rest : { ...rest, [key]: spec };
    onChange({ parameters: Object.keys(parameters).length > 0 ? parameters : undefined, ...(plain !== undefined ? { [key]: plain } : {}) });
  };
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
            <GradientField label={`Weight of ${name}`} value={value.weight} spec={value.parameters?.weight} layers={layers} onSpec={setSpec("weight")}>
              <NumberField id={`${id}-w`} value={value.weight} onChange={(weight) => onChange({ weight })} step={0.1} width="5.5rem" />
            </GradientField>
          </div>
        ) : null}
        {usesDensity(method) ? (
          <div className="field field-grow">
            <label htmlFor={`${id}-d`}>Density</label>
            <GradientField label={`Density of ${name}`} value={value.density} spec={value.parameters?.density} layers={layers} min={0} max={1} onSpec={setSpec("density")}>
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
            </GradientField>
          </div>
        ) : null}
        {usesGamma(method) ? (
          <div className="field">
            <label htmlFor={`${id}-g`} title={PARAM_HELP.gamma}>Gamma</label>
            <GradientField label={`Gamma of ${name}`} value={value.gamma} spec={value.parameters?.gamma} layers={layers} min={0} max={1} onSpec={setSpec("gamma")}>
              <NumberField id={`${id}-g`} value={value.gamma} onChange={(gamma) => onChange({ gamma })} min={0} max={1} step={0.01} width="5rem" />
            </GradientField>
          </div>
        ) : null}
        {method === "passthrough" ? (
          <div className="field">
            <label htmlFor={`${id}-s`} title={PARAM_HELP.scale}>Scale</label>
            <GradientField label={`Scale of ${name}`} value={value.scale ?? 1} spec={value.parameters?.scale} layers={layers} onSpec={setSpec("scale")}>
              <NumberField id={`${id}-s`} value={value.scale ?? 1} onChange={(scale) => onChange({ scale })} step={0.1} width="5.5rem" />
            </GradientField>
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
