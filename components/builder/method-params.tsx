"use client";

import { useId, type ReactNode } from "react";
import type { ParamSpec } from "@/server/engine/recipe/types";
import { CheckboxField } from "./checkbox-field";
import { GradientField } from "./gradient-field";
import { NEARSWAP_SUGGESTED_T, PARAM_HELP, type Method, usesGamma, usesRandomStream, usesSeed, usesTieOrder } from "./methods";
import { NumberField } from "./number-field";
import type { BuilderState } from "./url-state";

export type MethodParamValues = Pick<
  BuilderState,
  | "slack"
  | "scope"
  | "t"
  | "seed"
  | "rescale"
  | "randomStream"
  | "tieOrder"
  | "keepIfNoOutliers"
  | "filterWise"
  | "parameters"
  | "layers"
  | "selectTopk"
  | "nuslerpFlatten"
  | "nuslerpRowWise"
  | "normalizeWeights"
  | "eps"
  | "maxIter"
  | "tol"
>;

/**
 * The parameters only one method family has: TIES-SV's slack and scope,
 * SLERP's t, the random methods' seed and rescale (DARE's generator), the
 * magnitude-ranking methods' tie order, Model Breadcrumbs' edge-case flag,
 * Model Stock's filter_wise, SCE's select_topk, NuSLERP's flatten / row-wise,
 * Multi-SLERP's weight normalization and eps, Karcher's max_iter / tol and
 * NearSwap's t (mergekit's names under each label).
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
      <NewerMethodParams method={method} value={value} onChange={onChange} />
    </>
  );
}

/** sce, nuslerp, multislerp, karcher, nearswap (arcee_fusion has no parameters). */
function NewerMethodParams({ method, value, onChange }: { method: Method; value: MethodParamValues; onChange: (patch: Partial<MethodParamValues>) => void }) {
  const id = useId();
  const num = (key: "selectTopk" | "eps" | "maxIter" | "tol" | "t", label: ReactNode, hint: string, opts: { min?: number; max?: number; step: number; integer?: boolean }) => (
    <div className="field">
      <label htmlFor={`${id}-${key}`}>{label}</label>
      <NumberField id={`${id}-${key}`} value={value[key]} onChange={(v) => onChange({ [key]: v })} min={opts.min} max={opts.max} step={opts.step} integer={opts.integer} describedBy={`${id}-${key}-hint`} />
      <p className="hint" id={`${id}-${key}-hint`}>{hint}</p>
    </div>
  );
  return (
    <>
      {method === "sce" ? num("selectTopk", <>Select top-k <code className="muted">select_topk</code></>, PARAM_HELP.selectTopk, { min: 0, max: 1, step: 0.05 }) : null}
      {method === "nuslerp" ? (
        <>
          <CheckboxField label={<>Flatten <code className="muted">nuslerp_flatten</code></>} checked={value.nuslerpFlatten} onChange={(nuslerpFlatten) => onChange({ nuslerpFlatten })} hint={PARAM_HELP.nuslerpFlatten} />
          <CheckboxField label={<>Column vectors <code className="muted">nuslerp_row_wise</code></>} checked={value.nuslerpRowWise} onChange={(nuslerpRowWise) => onChange({ nuslerpRowWise })} hint={PARAM_HELP.nuslerpRowWise} />
        </>
      ) : null}
      {method === "multislerp" ? (
        <>
          <CheckboxField label={<>Normalize weights <code className="muted">normalize_weights</code></>} checked={value.normalizeWeights} onChange={(normalizeWeights) => onChange({ normalizeWeights })} hint={PARAM_HELP.normalizeWeights} />
          {num("eps", <>Epsilon <code className="muted">eps</code></>, PARAM_HELP.eps, { min: 0, max: 1, step: 1e-8 })}
        </>
      ) : null}
      {method === "karcher" ? (
        <div className="row">
          {num("maxIter", <>Max iterations <code className="muted">max_iter</code></>, PARAM_HELP.maxIter, { min: 0, max: 100_000, step: 1, integer: true })}
          {num("tol", <>Tolerance <code className="muted">tol</code></>, PARAM_HELP.tol, { min: 0, max: 1, step: 1e-6 })}
        </div>
      ) : null}
      {method === "nearswap" ? num("t", <>t (distance)</>, PARAM_HELP.nearswapT, { min: 0, max: 1, step: NEARSWAP_SUGGESTED_T }) : null}
    </>
  );
}
