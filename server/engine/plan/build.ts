// Recipe + the checkpoints' tensor names → the explicit per-tensor plan the engine streams
// (NativePlan): every output tensor with its inputs as (source, input tensor name) and the
// parameter values resolved for it. Slices renumber layers as mergekit does: output layer
// `offset + i` of a slice takes source layer `layer_range[0] + i`; embeddings come from the
// first slice's sources, the final norm and LM head from the last slice's, both at t = 0.
// A `models:` recipe is one slice over every layer of its models.
import { EngineError } from "../output/errors";
import { RecipeError } from "../recipe/errors";
import type { ParamSpecs, Recipe, RecipeModel } from "../recipe/types";
import type { NativePlan, NativePlanInput, NativePlanTensor } from "../types";
import { countLayers, isPreWeight, layerTensorName, parseLayerName } from "./layers";
import { hasLayeredParameters, ownSpecs, resolveGlobals, resolveModel } from "./resolve";

/** Tensor names of a checkpoint (a model directory or .safetensors file), sorted. */
export type TensorNamesOf = (modelPath: string) => readonly string[];

export interface MergePlan {
  plan: NativePlan;
  /** Output transformer layers (config.json `num_hidden_layers`). */
  numHiddenLayers: number;
}

/** True when the recipe needs a plan (slices, gradients or filters); otherwise names match 1:1. */
export function needsPlan(recipe: Recipe): boolean {
  return (recipe.slices != null && recipe.slices.length > 0) || hasLayeredParameters(recipe);
}

/** The methods whose tensors are relative to a base model input. */
function usesBaseInput(recipe: Recipe): boolean {
  return recipe.method !== "linear" && recipe.method !== "passthrough";
}

interface PlanSource {
  path: string;
  /** Source layers of this slice start here. */
  layerStart: number;
  /** Source, slice levels of this model's parameter lookup. */
  levels: [ParamSpecs | undefined, ParamSpecs | undefined];
}

interface PlanSlice {
  sources: PlanSource[];
  /** Layers in this slice. */
  span: number;
  parameters: ParamSpecs | undefined;
  /** Where errors point (YAML path). */
  where: string;
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function buildMergePlan(recipe: Recipe, namesOf: TensorNamesOf): MergePlan {
  const based = usesBaseInput(recipe);
  const slotOf = new Map<string, number>(recipe.models.map((m, i) => [m.path, i]));
  const modelOf = (p: string): RecipeModel | undefined => recipe.models[slotOf.get(p) ?? -1];

  const sources: string[] = [];
  const sourceIndex = (p: string) => {
    let i = sources.indexOf(p);
    if (i < 0) i = sources.push(p) - 1;
    return i;
  };
  if (based && recipe.basePath !== null) sourceIndex(recipe.basePath);

  const slices: PlanSlice[] = recipe.slices?.length
    ? recipe.slices.map((s, k) => ({
        sources: s.sources.map((src, j) => {
          const layers = countLayers(namesOf(src.path));
          if (src.layerRange[1] > layers) {
            throw new RecipeError([
              {
                path: `slices[${k}].sources[${j}].layer_range`,
                line: null,
                message: `[${src.layerRange.join(", ")}] goes beyond the ${layers} layers of \`${src.source}\` (layer_range end is exclusive)`,
              },
            ]);
          }
          return { path: src.path, layerStart: src.layerRange[0], levels: [src.parameters, s.parameters] as PlanSource["levels"] };
        }),
        span: s.sources[0]!.layerRange[1] - s.sources[0]!.layerRange[0],
        parameters: s.parameters,
        where: `slices[${k}]`,
      }))
    : [oneSliceOverAllLayers(recipe, namesOf, based)];

  const refOf = (s: PlanSlice) => (based ? s.sources.find((x) => x.path === recipe.basePath)! : s.sources[0]!);
  const tensors: NativePlanTensor[] = [];

  const addTensor = (slice: PlanSlice, outName: string, inNameOf: (src: PlanSource) => string, t: number) => {
    let base: NativePlanTensor["base"] = null;
    const inputs: NativePlanInput[] = [];
    for (const src of slice.sources) {
      const inName = inNameOf(src);
      if (based && src.path === recipe.basePath) {
        base = { source: sourceIndex(src.path), tensor: inName };
        continue;
      }
      const model = modelOf(src.path);
      if (!model) throw new Error(`plan: ${src.path} is not one of the recipe's models`);
      const v = resolveModel(recipe, model, [src.levels[0] ?? ownSpecs(model, recipe), src.levels[1], recipe.parameters], inName, t);
      inputs.push({ source: sourceIndex(src.path), tensor: inName, slot: slotOf.get(src.path)!, ...v });
    }
    const g = resolveGlobals(recipe, [slice.parameters, recipe.parameters], outName, t);
    tensors.push({ name: outName, base, inputs, lambda: g.lambda, t: g.t });
  };

  // Layers: slice by slice, renumbered consecutively.
  let offset = 0;
  for (const slice of slices) {
    const ref = refOf(slice);
    const refNames = namesOf(ref.path);
    for (let i = 0; i < slice.span; i++) {
      const t = slice.span > 1 ? i / (slice.span - 1) : 1;
      for (const name of refNames) {
        const l = parseLayerName(name);
        if (!l || l.layer !== ref.layerStart + i) continue;
        addTensor(slice, layerTensorName(l, offset + i), (src) => layerTensorName(l, src.layerStart + i), t);
      }
    }
    offset += slice.span;
  }
  // Pre-weights from the first slice's sources, post-weights from the last slice's, at t = 0.
  const first = slices[0]!;
  const last = slices[slices.length - 1]!;
  for (const name of namesOf(refOf(first).path)) {
    if (parseLayerName(name)) continue;
    addTensor(isPreWeight(name) ? first : last, name, () => name, 0);
  }
  tensors.sort((a, b) => byteOrder(a.name, b.name));
  return { plan: { sources, tensors }, numHiddenLayers: offset };
}

/** `models:` recipes: one slice over every layer; every model's tensors must match the reference's. */
function oneSliceOverAllLayers(recipe: Recipe, namesOf: TensorNamesOf, based: boolean): PlanSlice {
  const refPath = based ? recipe.basePath! : recipe.models[0]!.path;
  const refNames = new Set(namesOf(refPath));
  for (const m of recipe.models) {
    for (const name of namesOf(m.path)) {
      if (!refNames.has(name)) {
        throw new EngineError(
          "MODEL_TENSOR_EXTRA",
          `tensor '${name}' of ${m.path} does not exist in the reference model ${refPath}. Merged models must share their tensor names.`,
        );
      }
    }
  }
  const span = countLayers([...refNames]);
  const paths = [...(based ? [refPath] : []), ...recipe.models.map((m) => m.path)];
  return {
    sources: paths.map((p) => ({ path: p, layerStart: 0, levels: [undefined, undefined] })),
    span,
    parameters: undefined,
    where: "models",
  };
}
