"use client";

import { useCallback } from "react";
import { parseAnalysisState, serializeAnalysisState, type AnalysisState, type TableId } from "./analysis-state";
import { ExperimentAnalysis } from "./experiment-analysis";
import { ExperimentPicker } from "./experiment-picker";
import { useAnalysisUrlState } from "./use-analysis-url-state";

/** The analysis page: Figures 2–4, the density explorer and the heatmap of one experiment; all state in the URL. */
export function AnalysisView() {
  const [state, setState, flushUrl] = useAnalysisUrlState(parseAnalysisState, serializeAnalysisState);
  const patch = useCallback((p: Partial<AnalysisState>) => setState((s) => ({ ...s, ...p })), [setState]);
  const onTable = useCallback(
    (id: TableId, open: boolean) => setState((s) => ({ ...s, tables: open ? [...new Set([...s.tables, id])] : s.tables.filter((t) => t !== id) })),
    [setState],
  );
  if (!state.experiment) return <ExperimentPicker onPick={(id) => patch({ experiment: id })} />;
  return <ExperimentAnalysis experimentId={state.experiment} state={state} patch={patch} onTable={onTable} flushUrl={flushUrl} />;
}
