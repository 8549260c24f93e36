"use client";

import { useId } from "react";
import { DTYPES, PARAM_HELP, type Dtype, type Method, usesDensity } from "./methods";
import { NumberField } from "./number-field";
import type { BuilderState } from "./url-state";

type Globals = Pick<BuilderState, "lambda" | "normalize" | "consensus" | "slack" | "scope" | "dtype">;

/** λ, normalize, consensus, TIES-SV's slack and scope, and the dtype — each explained in one line. */
export function GlobalParams({ method, value, onChange }: { method: Method; value: Globals; onChange: (patch: Partial<Globals>) => void }) {
  const id = useId();
  return (
    <fieldset data-testid="global-params">
      <legend>Parameters</legend>
      <div className="stack">
        {method !== "linear" ? (
          <div className="field">
            <label htmlFor={`${id}-lambda`}>λ (lambda)</label>
            <NumberField id={`${id}-lambda`} value={value.lambda} onChange={(lambda) => onChange({ lambda })} step={0.1} describedBy={`${id}-lambda-hint`} />
            <p className="hint" id={`${id}-lambda-hint`}>{PARAM_HELP.lambda}</p>
          </div>
        ) : null}
        <div className="field">
          <label style={{ display: "inline-flex", gap: "0.4rem", alignItems: "center" }}>
            <input type="checkbox" checked={value.normalize} onChange={(e) => onChange({ normalize: e.target.checked })} aria-describedby={`${id}-norm-hint`} />
            Normalize
          </label>
          <p className="hint" id={`${id}-norm-hint`}>{PARAM_HELP.normalize}</p>
        </div>
        {usesDensity(method) ? (
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
      </div>
    </fieldset>
  );
}
