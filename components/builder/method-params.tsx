"use client";

import { useId } from "react";
import type { ParamSpec } from "@/server/engine/recipe/types";
import { CheckboxField } from "./checkbox-field";
import { GradientField } from "./gradient-field";
import { PARAM_HELP, type Method, usesGamma, usesRandomStream, usesSeed, usesTieOrder } from "./methods";
import { NumberField } from "./number-field";
import type { BuilderState } from "./url-state";

export type MethodParamValues = Pick<
  BuilderState,
  "slack" | "scope" | "t" | "seed" | "rescale" | "randomStream" | "tieOrder" | "keepIfNoOutliers" | "filterWise" | "parameters" | "layers"
>;

/**
 * The parameters only one method family has: TIES-SV's slack and scope,
 * SLERP's t, the random methods' seed and rescale (DARE's generator), the
 * magnitude-ranking methods' tie order, Model Breadcrumbs' edge-case flag and
 * Model Stock's filter_wise.
 */
export function MethodParams({ method, value, onChange }: { method: Method; value: MethodParamValues; onChange: (patch: Partial<MethodParamValues>) => void }) {
  const id = useId();
  return (
    <>
      {method === "ties_sv" ? (
        <div className="row">
          <div className="field">
            <label htmlFor={`${id}-slack`}>Slack</label>
            <NumberField id={`${id}-slack`} value={value.slack} onChange={(slack) => onChange({ slack })} min={0} max={1} step={0.01} describedBy={`${id}-slack-hint`} />
            <p className="hint" id={`${id}-slack-hint`}>{PARAM_HELP.slack}</p>
          </div>
          <div className="field">
            <label htmlFor={`${id}-scope`}>Slack scope</label>
            <select id={`${id}-scope`} value={value.scope} onChange={(e) => onChange({ scope: e.target.value as "model" | "tensor" })} aria-describedby={`${id}-scope-hint`}>
              <option value="model">model</option>
              <option value="tensor">tensor</option>
            </select>
            <p className="hint" id={`${id}-scope-hint`}>{PARAM_HELP.scope}</p>
          </div>
        </div>
      ) : null}
      {method === "slerp" ? (
        <div className="field">
          <label htmlFor={`${id}-t`}>t</label>
          <GradientField
            label="t"
            value={value.t}
            spec={value.parameters?.t}
            layers={value.layers}
            min={0}
            max={1}
            onSpec={(spec: ParamSpec | undefined, plain?: number) => {
              const { t: _old, ...rest } = value.parameters ?? {};
              const parameters = spec === undefined ? rest : { ...rest, t: spec };
              onChange({ parameters: Object.keys(parameters).length > 0 ? parameters : undefined, ...(plain !== undefined ? { t: plain } : {}) });
            }}
          >
            <NumberField id={`${id}-t`} value={value.t} onChange={(t) => onChange({ t })} min={0} max={1} step={0.05} describedBy={`${id}-t-hint`} />
          </GradientField>
          <p className="hint" id={`${id}-t-hint`}>{PARAM_HELP.t}</p>
        </div>
      ) : null}
      {usesSeed(method) ? (
        <>
          <div className="field">
            <label htmlFor={`${id}-seed`}>Seed</label>
            <NumberField id={`${id}-seed`} value={value.seed} onChange={(seed) => onChange({ seed })} min={0} max={Number.MAX_SAFE_INTEGER} step={1} integer describedBy={`${id}-seed-hint`} />
            <p className="hint" id={`${id}-seed-hint`}>{PARAM_HELP.seed}</p>
          </div>
          <CheckboxField label="Rescale" checked={value.rescale} onChange={(rescale) => onChange({ rescale })} hint={PARAM_HELP.rescale} />
        </>
      ) : null}
      {usesRandomStream(method) ? (
        <div className="field">
          <label htmlFor={`${id}-rnd`}>Random stream</label>
          <select id={`${id}-rnd`} value={value.randomStream} onChange={(e) => onChange({ randomStream: e.target.value as "counter" | "mergekit" })} aria-describedby={`${id}-rnd-hint`}>
            <option value="counter">counter (MergeScope)</option>
            <option value="mergekit">mergekit (torch MT19937)</option>
          </select>
          <p className="hint" id={`${id}-rnd-hint`}>{PARAM_HELP.randomStream}</p>
        </div>
      ) : null}
      {usesTieOrder(method) ? (
        <div className="field">
          <label htmlFor={`${id}-tie`}>Tie order</label>
          <select id={`${id}-tie`} value={value.tieOrder} onChange={(e) => onChange({ tieOrder: e.target.value as "mergekit" | "index" })} aria-describedby={`${id}-tie-hint`}>
            <option value="mergekit">mergekit</option>
            <option value="index">lowest index first</option>
          </select>
          <p className="hint" id={`${id}-tie-hint`}>{PARAM_HELP.tieOrder}</p>
        </div>
      ) : null}
      {usesGamma(method) ? (
        <CheckboxField
          label={<>Keep if no outliers <code className="muted">keep_if_no_outliers</code></>}
          checked={value.keepIfNoOutliers}
          onChange={(keepIfNoOutliers) => onChange({ keepIfNoOutliers })}
          hint={PARAM_HELP.keepIfNoOutliers}
        />
      ) : null}
      {method === "model_stock" ? (
        <CheckboxField
          label={<>Filter-wise <code className="muted">filter_wise</code></>}
          checked={value.filterWise}
          onChange={(filterWise) => onChange({ filterWise })}
          hint={PARAM_HELP.filterWise}
        />
      ) : null}
    </>
  );
}
