// Per-input transforms of a request (native/core/input_transforms.h): LoRA adapters of
// `model+lora` inputs (lora/adapter.ts) and, for tokenizer merges, each input's embedding row
// map in the output vocabulary (tokenizer/). They attach to the inputs of a NativeMergeRequest
// built from the recipe, so they compose with whatever decides which inputs feed which tensor.
import path from "node:path";
import { loadLoraAdapter } from "./lora/adapter";
import type { Recipe } from "./recipe/types";
import type { LoraReport } from "./stats/report";
import { planTokenizer, type TokenizerPlan, type TokenizerPlanInput } from "./tokenizer";
import { ROW_SOURCE_BASE, type NativeInputTransforms, type NativeMergeRequest } from "./types";

export interface PreparedInputs {
  request: NativeMergeRequest;
  tokenizer: TokenizerPlan | null;
  loras: LoraReport[];
}

const refLabel = (m: { source: string; lora?: { source: string } | null }) => (m.lora ? `${m.source}+${m.lora.source}` : m.source);
const identity = (m: { path: string; lora?: { path: string } | null }) => (m.lora ? `${m.path}+${m.lora.path}` : m.path);

/** The request with its inputs' transforms; `request.models` must be `recipe.models` in order. */
export function prepareInputs(recipe: Recipe, request: NativeMergeRequest): PreparedInputs {
  if (request.models.length !== recipe.models.length) throw new Error("prepareInputs: request and recipe list different models");
  const loras: LoraReport[] = [];
  // Side files (adapter_config.json, tokenizer.json, config.json) are opened with the engine's own checks.
  const roots = request.allowedRoots ?? null;
  const tx = (lora: { path: string; source: string } | null | undefined, label: string): NativeInputTransforms => {
    if (!lora) return { lora: null, embedRows: null };
    const loaded = loadLoraAdapter(lora.path, roots);
    loras.push({
      model: label,
      adapter: lora.source,
      r: loaded.summary.r,
      lora_alpha: loaded.summary.loraAlpha,
      use_rslora: loaded.summary.useRslora,
      scale: loaded.summary.scale,
      tensors: loaded.summary.targets.length,
    });
    return { lora: loaded.native, embedRows: null };
  };
  const hasBase = request.basePath !== null;
  const baseTx = hasBase ? tx(recipe.baseLora, refLabel({ source: recipe.baseSource ?? recipe.basePath!, lora: recipe.baseLora })) : null;
  const modelTx = recipe.models.map((m) => tx(m.lora, refLabel(m)));

  let tokenizer: TokenizerPlan | null = null;
  if (recipe.tokenizer) {
    const inputs: TokenizerPlanInput[] = [
      ...(hasBase
        ? [{ index: ROW_SOURCE_BASE, path: recipe.basePath!, label: refLabel({ source: recipe.baseSource ?? path.basename(recipe.basePath!), lora: recipe.baseLora }), identity: identity({ path: recipe.basePath!, lora: recipe.baseLora }) }]
        : []),
      ...recipe.models.map((m, i) => ({ index: i, path: m.path, label: refLabel(m), identity: identity(m) })),
    ];
    tokenizer = planTokenizer(recipe, inputs, roots);
    if (baseTx) baseTx.embedRows = tokenizer.rowMaps.get(ROW_SOURCE_BASE) ?? null;
    modelTx.forEach((t, i) => (t.embedRows = tokenizer!.rowMaps.get(i) ?? null));
  }
  const used = (t: NativeInputTransforms | null) => t !== null && (t.lora !== null || t.embedRows !== null);
  return {
    request: {
      ...request,
      ...(used(baseTx) ? { baseTransforms: baseTx! } : {}),
      models: request.models.map((m, i) => (used(modelTx[i]!) ? { ...m, transforms: modelTx[i]! } : m)),
    },
    tokenizer,
    loras,
  };
}
