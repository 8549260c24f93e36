// The layer-swap helper's logic (Bandarkar et al. 2024): the bottom and top layers come from
// the language (CT) model, the middle ones from the task (SFT) model, with an optional
// transition zone blended linearly at each boundary. Pure functions: the form and the tests
// share them.
import type { BuilderSlice } from "@/server/services/builder/schemas";

export interface LayerSwapInput {
  languageModelId: string;
  taskModelId: string;
  /** Layers of both models (num_hidden_layers). */
  layers: number;
  /** Layers from the language model at the bottom (embedding side) and at the top. */
  bottom: number;
  top: number;
  /** Blended layers at each boundary between the zones (0 = a hard swap). */
  transition: number;
}

export interface LayerSwap {
  /** passthrough for a hard swap; linear (per-slice weights) when layers are blended. */
  method: "passthrough" | "linear";
  slices: BuilderSlice[];
}

/** Slices for a layer swap; throws with the reason when the zones do not fit. */
export function layerSwapSlices(x: LayerSwapInput): LayerSwap {
  const ints = [x.layers, x.bottom, x.top, x.transition];
  if (!ints.every((n) => Number.isInteger(n) && n >= 0) || x.layers < 1) throw new Error("layer counts must be whole numbers (at least one layer)");
  const boundaries = (x.bottom > 0 ? 1 : 0) + (x.top > 0 ? 1 : 0);
  const middle = x.layers - x.bottom - x.top - boundaries * x.transition;
  if (middle < 1) {
    throw new Error(`${x.bottom} bottom + ${x.top} top layers and ${x.transition} transition layer(s) per boundary leave no layer for the task model (of ${x.layers})`);
  }
  const lm = x.languageModelId;
  const task = x.taskModelId;
  if (x.transition === 0) {
    const one = (modelId: string, a: number, b: number): BuilderSlice => ({ sources: [{ modelId, layerRange: [a, b], parameters: {} }], parameters: {} });
    const slices: BuilderSlice[] = [];
    if (x.bottom > 0) slices.push(one(lm, 0, x.bottom));
    slices.push(one(task, x.bottom, x.layers - x.top));
    if (x.top > 0) slices.push(one(lm, x.layers - x.top, x.layers));
    return { method: "passthrough", slices };
  }
  // Both models in every slice, weighted: 1/0 copies outside the transition zones.
  const both = (a: number, b: number, wLm: number): BuilderSlice => ({
    sources: [
      { modelId: lm, layerRange: [a, b], parameters: { weight: wLm } },
      { modelId: task, layerRange: [a, b], parameters: { weight: 1 - wLm } },
    ],
    parameters: {},
  });
  const slices: BuilderSlice[] = [];
  let at = 0;
  if (x.bottom > 0) {
    slices.push(both(0, x.bottom, 1));
    at = x.bottom;
    for (let j = 1; j <= x.transition; j++, at++) slices.push(both(at, at + 1, 1 - j / (x.transition + 1)));
  }
  const middleEnd = at + middle;
  slices.push(both(at, middleEnd, 0));
  at = middleEnd;
  if (x.top > 0) {
    for (let j = 1; j <= x.transition; j++, at++) slices.push(both(at, at + 1, j / (x.transition + 1)));
    slices.push(both(at, x.layers, 1));
  }
  return { method: "linear", slices };
}

export interface StripLayer {
  /** Output layer index. */
  layer: number;
  /** The model the layer is copied from, or "blend" when several contribute. */
  from: string;
  /** Source layer per contributing model. */
  sources: { modelId: string; layer: number; weight: number | null }[];
}

/** One entry per output layer of the slices (what the layer strip draws). */
export function layerStrip(slices: readonly BuilderSlice[]): StripLayer[] {
  const out: StripLayer[] = [];
  for (const slice of slices) {
    const span = slice.sources[0]!.layerRange[1] - slice.sources[0]!.layerRange[0];
    for (let i = 0; i < span; i++) {
      const sources = slice.sources.map((s) => {
        const w = s.parameters.weight ?? slice.parameters.weight;
        return { modelId: s.modelId, layer: s.layerRange[0] + i, weight: typeof w === "number" ? w : null };
      });
      const live = sources.filter((s) => s.weight !== 0);
      out.push({ layer: out.length, from: live.length === 1 ? live[0]!.modelId : "blend", sources });
    }
  }
  return out;
}
