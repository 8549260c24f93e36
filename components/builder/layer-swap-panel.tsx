"use client";

import { useId, useState } from "react";
import type { ModelSummary } from "@/server/services/models/schemas";
import { layerSwapSlices, type LayerSwap } from "./layer-swap";
import { LayerStrip } from "./layer-strip";
import { ModelOptions } from "./model-options";
import { NumberField } from "./number-field";
import type { BuilderState } from "./url-state";

const LM_COLOR = "#bbf7d0";
const TASK_COLOR = "#c7d2fe";

/**
 * Layer swapping (Bandarkar et al. 2024): bottom and top layers from the language model,
 * the middle from the task model, optionally a blended transition zone. Shows the layer
 * strip and, on "Use this layer swap", replaces the recipe by its slices.
 */
export function LayerSwapPanel({
  models,
  state,
  nameOf,
  onApply,
  onLayers,
}: {
  models: ModelSummary[];
  state: BuilderState;
  nameOf: (id: string) => string;
  onApply: (swap: LayerSwap, languageModelId: string, taskModelId: string) => void;
  onLayers: (layers: number) => void;
}) {
  const id = useId();
  const guessLm = state.models.find((m) => models.find((x) => x.id === m.id)?.role === "CT")?.id ?? models.find((m) => m.role === "CT")?.id ?? "";
  const guessTask = state.models.find((m) => models.find((x) => x.id === m.id)?.role === "SFT")?.id ?? models.find((m) => m.role === "SFT")?.id ?? "";
  const [lm, setLm] = useState(guessLm);
  const [task, setTask] = useState(guessTask);
  const [bottom, setBottom] = useState(Math.min(4, Math.max(0, Math.floor(state.layers / 4))));
  const [top, setTop] = useState(Math.min(2, Math.max(0, Math.floor(state.layers / 8))));
  const [transition, setTransition] = useState(0);
  let swap: LayerSwap | null = null;
  let problem: string | null = null;
  if (!lm || !task) problem = "Pick the language model and the task model.";
  else if (lm === task) problem = "The language model and the task model must differ.";
  else {
    try {
      swap = layerSwapSlices({ languageModelId: lm, taskModelId: task, layers: state.layers, bottom, top, transition });
    } catch (err) {
      problem = (err as Error).message;
    }
  }
  const colorOf = (m: string) => (m === lm ? LM_COLOR : TASK_COLOR);
  return (
    <section className="card stack" aria-labelledby={`${id}-title`} data-testid="layer-swap">
      <h2 id={`${id}-title`}>Layer swap</h2>
      <p className="hint">
        Bottom and top layers from the language (CT) model, the middle ones from the task (SFT) model. A transition zone blends the two
        models linearly at each boundary (the recipe then uses <code>linear</code> with per-slice weights; otherwise <code>passthrough</code>).
      </p>
      <div className="row">
        <div className="field">
          <label htmlFor={`${id}-lm`}>Language model</label>
          <select id={`${id}-lm`} value={lm} onChange={(e) => setLm(e.target.value)}>
            <option value="">(choose)</option>
            <ModelOptions models={models} />
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-task`}>Task model</label>
          <select id={`${id}-task`} value={task} onChange={(e) => setTask(e.target.value)}>
            <option value="">(choose)</option>
            <ModelOptions models={models} />
          </select>
        </div>
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor={`${id}-layers`}>Layers</label>
          <NumberField id={`${id}-layers`} value={state.layers} onChange={onLayers} min={1} max={1024} integer step={1} width="5rem" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-bottom`}>Bottom layers</label>
          <NumberField id={`${id}-bottom`} value={bottom} onChange={setBottom} min={0} max={1024} integer step={1} width="5rem" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-top`}>Top layers</label>
          <NumberField id={`${id}-top`} value={top} onChange={setTop} min={0} max={1024} integer step={1} width="5rem" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-tr`}>Transition layers</label>
          <NumberField id={`${id}-tr`} value={transition} onChange={setTransition} min={0} max={64} integer step={1} width="5rem" />
        </div>
      </div>
      {swap ? <LayerStrip slices={swap.slices} nameOf={nameOf} colorOf={colorOf} /> : <p className="hint" role="status">{problem}</p>}
      <div>
        <button type="button" className="btn" disabled={!swap} onClick={() => swap && onApply(swap, lm, task)}>
          Use this layer swap
        </button>
      </div>
    </section>
  );
}
