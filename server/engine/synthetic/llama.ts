// Tensor layout and config.json of a Hugging Face LlamaForCausalLM, so synthetic
// checkpoints look exactly like real ones to mergekit, the native engine and transformers.

export interface LlamaShape {
  hidden: number;
  layers: number;
  intermediate: number;
  vocab: number;
  heads: number;
  kvHeads: number;
}

/** Which statistics a tensor's synthetic values follow. */
export type TensorKind = "embedding" | "projection" | "norm";

export interface LlamaTensor {
  name: string;
  shape: number[];
  kind: TensorKind;
}

export function validateLlamaShape(s: LlamaShape): void {
  const dims = { hidden: s.hidden, layers: s.layers, intermediate: s.intermediate, vocab: s.vocab, heads: s.heads, kvHeads: s.kvHeads };
  for (const [key, value] of Object.entries(dims)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${key} must be a positive integer, got ${value}`);
  }
  if (s.hidden % s.heads !== 0) throw new Error(`hidden (${s.hidden}) must be divisible by heads (${s.heads})`);
  if (s.heads % s.kvHeads !== 0) throw new Error(`heads (${s.heads}) must be divisible by kv-heads (${s.kvHeads}) for grouped-query attention`);
  if (s.vocab < 3) throw new Error("vocab must be at least 3 (bos, eos, unk)");
}

/** Tensors in Hugging Face's order (embeddings, layer by layer, final norm, lm_head). */
export function llamaTensors(s: LlamaShape): LlamaTensor[] {
  const headDim = s.hidden / s.heads;
  const kvDim = s.kvHeads * headDim;
  const out: LlamaTensor[] = [{ name: "model.embed_tokens.weight", shape: [s.vocab, s.hidden], kind: "embedding" }];
  for (let l = 0; l < s.layers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      { name: `${p}.self_attn.q_proj.weight`, shape: [s.hidden, s.hidden], kind: "projection" },
      { name: `${p}.self_attn.k_proj.weight`, shape: [kvDim, s.hidden], kind: "projection" },
      { name: `${p}.self_attn.v_proj.weight`, shape: [kvDim, s.hidden], kind: "projection" },
      { name: `${p}.self_attn.o_proj.weight`, shape: [s.hidden, s.hidden], kind: "projection" },
      { name: `${p}.mlp.gate_proj.weight`, shape: [s.intermediate, s.hidden], kind: "projection" },
      { name: `${p}.mlp.up_proj.weight`, shape: [s.intermediate, s.hidden], kind: "projection" },
      { name: `${p}.mlp.down_proj.weight`, shape: [s.hidden, s.intermediate], kind: "projection" },
      { name: `${p}.input_layernorm.weight`, shape: [s.hidden], kind: "norm" },
      { name: `${p}.post_attention_layernorm.weight`, shape: [s.hidden], kind: "norm" },
    );
  }
  out.push({ name: "model.norm.weight", shape: [s.hidden], kind: "norm" }, { name: "lm_head.weight", shape: [s.vocab, s.hidden], kind: "embedding" });
  return out;
}

export function llamaParameterCount(s: LlamaShape): number {
  return llamaTensors(s).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}

export const BOS_TOKEN_ID = 1;
export const EOS_TOKEN_ID = 2;

export function llamaConfig(s: LlamaShape, torchDtype: string): Record<string, unknown> {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: s.hidden,
    intermediate_size: s.intermediate,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    head_dim: s.hidden / s.heads,
    vocab_size: s.vocab,
    max_position_embeddings: 2048,
    rms_norm_eps: 1e-5,
    rope_theta: 10000.0,
    rope_scaling: null,
    hidden_act: "silu",
    initializer_range: 0.02,
    attention_bias: false,
    attention_dropout: 0.0,
    mlp_bias: false,
    pretraining_tp: 1,
    tie_word_embeddings: false,
    bos_token_id: BOS_TOKEN_ID,
    eos_token_id: EOS_TOKEN_ID,
    torch_dtype: torchDtype,
    use_cache: true,
    transformers_version: "4.44.2",
  };
}
