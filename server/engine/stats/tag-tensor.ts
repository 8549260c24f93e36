// Hugging Face tensor name → (layer, module), so statistics can be grouped by transformer
// layer and by projection across architectures: Llama/Mistral/Qwen/Gemma (model.layers.N.
// self_attn.q_proj), Mixtral experts (w1/w2/w3), GPT-2 (transformer.h.N.attn.c_attn),
// GPT-NeoX (gpt_neox.layers.N.attention.query_key_value), Falcon, Phi-3 and Meta's original
// Llama names (layers.N.attention.wq). Prefix-less names (layers.0.mlp.down_proj.weight) work too.

export type TensorModule =
  | "q"
  | "k"
  | "v"
  | "o"
  /** fused q/k/v projection (GPT-2 c_attn, GPT-NeoX/Falcon query_key_value, Phi-3 qkv_proj) */
  | "qkv"
  | "gate"
  | "up"
  | "down"
  /** fused gate/up projection (Phi-3 gate_up_proj) */
  | "gate_up"
  | "norm"
  | "embed"
  | "lm_head"
  | "other";

export const TENSOR_MODULES: readonly TensorModule[] = [
  "embed",
  "q",
  "k",
  "v",
  "qkv",
  "o",
  "gate",
  "up",
  "gate_up",
  "down",
  "norm",
  "lm_head",
  "other",
];

export interface TensorTag {
  layer: number | null;
  module: TensorModule;
}

// `(^|\.)X(\.|$)` = X is a whole dotted component.
const part = (alternatives: string) => new RegExp(`(?:^|\\.)(?:${alternatives})(?:\\.|$)`);

const LAYER = /(?:^|\.)(?:layers|layer|h|blocks|block)\.(\d+)(?:\.|$)/;

// Outside the layers: embeddings, the final norm and the LM head.
const OUTSIDE_RULES: [RegExp, TensorModule][] = [
  [part("lm_head|embed_out|output"), "lm_head"],
  [part("embed_tokens|wte|wpe|embed_in|word_embeddings|tok_embeddings|embed_positions"), "embed"],
  [part("norm|\\w*layernorm|\\w*layer_norm|\\w+_norm|ln_\\w+"), "norm"],
];

// Inside a layer. Order matters: norms before q/k (q_norm), fused before split, and GPT-2's
// c_proj / NeoX's dense are the down projection inside the MLP but the output projection in
// attention, so the MLP-scoped rule comes first.
const LAYER_RULES: [RegExp, TensorModule][] = [
  [part("norm|\\w*layernorm|\\w*layer_norm|\\w+_norm|ln_\\w+"), "norm"],
  [part("query_key_value|qkv_proj|c_attn|Wqkv"), "qkv"],
  [part("gate_up_proj"), "gate_up"],
  [part("q_proj|wq|query"), "q"],
  [part("k_proj|wk|key"), "k"],
  [part("v_proj|wv|value"), "v"],
  [/(?:^|\.)(?:mlp|feed_forward|ffn)\.(?:\w+\.)*?(?:c_proj|dense_4h_to_h|down_proj|w2|fc2)(?:\.|$)/, "down"],
  [part("o_proj|out_proj|wo|c_proj|dense"), "o"],
  [part("gate_proj|w1"), "gate"],
  [part("up_proj|w3|c_fc|dense_h_to_4h|fc1"), "up"],
  [part("down_proj|w2|dense_4h_to_h|fc2"), "down"],
];

export function tagTensor(name: string): TensorTag {
  const layerMatch = LAYER.exec(name);
  if (!layerMatch) {
    const hit = OUTSIDE_RULES.find(([re]) => re.test(name));
    return { layer: null, module: hit ? hit[1] : "other" };
  }
  // Only the part after the layer index names the module ("h" or "layers" are not modules).
  const tail = name.slice(layerMatch.index + layerMatch[0].length);
  const hit = LAYER_RULES.find(([re]) => re.test(tail));
  return { layer: Number(layerMatch[1]), module: hit ? hit[1] : "other" };
}
