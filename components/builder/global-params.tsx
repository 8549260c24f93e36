"use client";

import { useId } from "react";
import type { ParamSpec } from "@/server/engine/recipe/types";
import { CheckboxField } from "./checkbox-field";
import { GradientField } from "./gradient-field";
import { DTYPES, PARAM_HELP, type Dtype, type Method, usesConsensus, usesLambda, usesNormalize } from "./methods";
import { MethodParams, type MethodParamValues } from "./method-params";
import { NumberField } from "./number-field";
import type { BuilderState } from "./url-state";

type Globals = Pick<BuilderState, "lambda" | "normalize" | "consensus" | "dtype" | "tok" | "parameters" | "layers"> & MethodParamValues;

/** The top-level per-layer spec of `key` set (or removed, back to the plain value). */
export function withGlobalSpec(value: Globals, key: "lambda" | "t", spec: ParamSpec | undefined, plain?: number): Partial<Globals> {
  const { [key]: _old, ...rest } = value.parameters ?? {};
  const parameters = spec === undefined ? rest : { ...rest, [key]: spec };
  return { parameters: Object.keys(parameters).length > 0 ? parameters : undefined, ...(plain !== undefined ? { [key]: plain } : {}) };
}

/** The recipe-wide parameters the method uses — λ, normalize, consensus, the method's own ones — and the dtype, each explained in one line. */
export function GlobalParams({ method, value, onChange }: { method: Method; value: Globals; onChange: (patch: Partial<Globals>) => void }) {
  const id = useId();
  return (
    <fieldset data-testid="global-params">
      <legend>Parameters</legend>
      <div className="stack">
        {usesLambda(method) ? (
          <div className="field">
            <label htmlFor={`${id}-lambda`}>λ (lambda)</label>
            <GradientField label="λ" value={value.lambda} spec={value.parameters?.lambda} layers={value.layers} onSpec={(spec, plain) => onChange(withGlobalSpec(value, "lambda", spec, plain))}>
              <NumberField id={`${id}-lambda`} value={value.lambda} onChange={(lambda) => onChange({ lambda })} step={0.1} describedBy={`${id}-lambda-hint`} />
            </GradientField>
            <p className="hint" id={`${id}-lambda-hint`}>{PARAM_HELP.lambda}</p>
          </div>
        ) : null}
        {usesNormalize(method) ? (
          <CheckboxField label="Normalize" checked={value.normalize} onChange={(normalize) => onChange({ normalize })} hint={PARAM_HELP.normalize} />
        ) : null}
        {usesConsensus(method) ? (
          <div className="field">
            <label htmlFor={`${id}-cons`}>Consensus</label>
            <select
              id={`${id}-cons`}
              value={method === "ties_sv" ? "sum" : value.consensus}
              onChange={(e) => onChange({ consensus: e.target.value as "sum" | "count" })}
              disabled={method === "ties_sv"}
              aria-describedby={`${id}-cons-hint`}
            >
              <option value="sum">sum</option>
              <option value="count">count</option>
            </select>
            <p className="hint" id={`${id}-cons-hint`}>
              {PARAM_HELP.consensus}
              {method === "ties_sv" ? " TIES-SV needs sum." : ""}
            </p>
          </div>
        ) : null}
        <MethodParams method={method} value={value} onChange={onChange} />
        <div className="field">
          <label htmlFor={`${id}-dtype`}>Dtype</label>
          <select id={`${id}-dtype`} value={value.dtype ?? ""} onChange={(e) => onChange({ dtype: (e.target.value || null) as Dtype | null })} aria-describedby={`${id}-dtype-hint`}>
            <option value="">storage dtype</option>
            {DTYPES.map((d) => (
              <option key={d} value={d}>{d}</option>
            ))}
          </select>
          <p className="hint" id={`${id}-dtype-hint`}>{PARAM_HELP.dtype}</p>
        </div>
        <div className="field">
          <label htmlFor={`${id}-tok`}>Tokenizer</label>
          <select id={`${id}-tok`} value={value.tok ?? ""} onChange={(e) => onChange({ tok: (e.target.value || null) as "base" | "union" | null })} aria-describedby={`${id}-tok-hint`}>
            <option value="">copy the base&apos;s</option>
            <option value="base">base (re-index rows)</option>
            <option value="union">union of all vocabularies</option>
          </select>
          <p className="hint" id={`${id}-tok-hint`}>{PARAM_HELP.tokenizer}</p>
        </div>
      </div>
    </fieldset>
  );
}
