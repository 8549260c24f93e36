"use client";

import { useId } from "react";
import type { ExperimentDetail, ExperimentSummary } from "@/server/services/experiments/schemas";
import { formatTokens } from "@/components/common/format";

/** Pick an experiment (fills base, SFT and a CT checkpoint) and switch its CT checkpoint. */
export function SourcePicker({
  experiments,
  experimentId,
  experiment,
  ctModelId,
  onExperiment,
  onCheckpoint,
}: {
  experiments: ExperimentSummary[];
  experimentId: string | null;
  experiment: ExperimentDetail | undefined;
  /** The recipe's CT checkpoint (one of the experiment's), if any. */
  ctModelId: string | null;
  onExperiment: (id: string | null) => void;
  onCheckpoint: (id: string) => void;
}) {
  const id = useId();
  const cts = experiment?.models.filter((m) => m.role === "CT").map((m) => m.model) ?? [];
  const unknown = experimentId !== null && !experiments.some((e) => e.id === experimentId);
  return (
    <div className="row" data-testid="source-picker">
      <div className="field field-grow">
        <label htmlFor={`${id}-exp`}>Experiment</label>
        <select id={`${id}-exp`} value={experimentId ?? ""} onChange={(e) => onExperiment(e.target.value || null)}>
          <option value="">None: pick the models yourself</option>
          {unknown ? <option value={experimentId}>(unknown experiment {experimentId})</option> : null}
          {experiments.map((e) => (
            <option key={e.id} value={e.id}>{e.name} ({e.language})</option>
          ))}
        </select>
      </div>
      {experimentId && cts.length > 0 ? (
        <div className="field">
          <label htmlFor={`${id}-ct`}>CT checkpoint</label>
          <select id={`${id}-ct`} value={ctModelId ?? ""} onChange={(e) => onCheckpoint(e.target.value)}>
            {ctModelId === null ? <option value="">Not in the recipe</option> : null}
            {cts.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}{m.ctTokens !== null ? ` (${formatTokens(m.ctTokens)} tokens)` : ""}
              </option>
            ))}
          </select>
        </div>
      ) : null}
    </div>
  );
}
