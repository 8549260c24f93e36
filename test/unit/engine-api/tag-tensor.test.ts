import assert from "node:assert/strict";
import { test } from "node:test";
import { tagTensor, type TensorModule } from "@/server/engine/stats";

const TABLE: [string, number | null, TensorModule][] = [
  // Llama / Mistral / Qwen / Gemma
  ["model.embed_tokens.weight", null, "embed"],
  ["model.layers.0.self_attn.q_proj.weight", 0, "q"],
  ["model.layers.7.self_attn.k_proj.weight", 7, "k"],
  ["model.layers.7.self_attn.k_proj.bias", 7, "k"],
  ["model.layers.31.self_attn.v_proj.weight", 31, "v"],
  ["model.layers.31.self_attn.o_proj.weight", 31, "o"],
  ["model.layers.2.mlp.gate_proj.weight", 2, "gate"],
  ["model.layers.2.mlp.up_proj.weight", 2, "up"],
  ["model.layers.12.mlp.down_proj.weight", 12, "down"],
  ["model.layers.12.input_layernorm.weight", 12, "norm"],
  ["model.layers.12.post_attention_layernorm.weight", 12, "norm"],
  ["model.layers.3.pre_feedforward_layernorm.weight", 3, "norm"], // Gemma 2
  ["model.layers.3.self_attn.q_norm.weight", 3, "norm"], // Qwen 3
  ["model.layers.3.self_attn.rotary_emb.inv_freq", 3, "other"],
  ["model.norm.weight", null, "norm"],
  ["lm_head.weight", null, "lm_head"],
  // golden fixtures (no "model." prefix)
  ["layers.0.mlp.down_proj.weight", 0, "down"],
  ["layers.0.post_attention_layernorm.weight", 0, "norm"],
  ["embed_tokens.weight", null, "embed"],
  // Mixtral
  ["model.layers.1.block_sparse_moe.experts.3.w1.weight", 1, "gate"],
  ["model.layers.1.block_sparse_moe.experts.3.w3.weight", 1, "up"],
  ["model.layers.1.block_sparse_moe.experts.3.w2.weight", 1, "down"],
  ["model.layers.1.block_sparse_moe.gate.weight", 1, "other"],
  // GPT-2
  ["transformer.wte.weight", null, "embed"],
  ["transformer.wpe.weight", null, "embed"],
  ["transformer.h.5.ln_1.weight", 5, "norm"],
  ["transformer.h.5.attn.c_attn.weight", 5, "qkv"],
  ["transformer.h.5.attn.c_proj.weight", 5, "o"],
  ["transformer.h.5.mlp.c_fc.weight", 5, "up"],
  ["transformer.h.5.mlp.c_proj.weight", 5, "down"],
  ["transformer.ln_f.weight", null, "norm"],
  // GPT-NeoX / Pythia
  ["gpt_neox.embed_in.weight", null, "embed"],
  ["gpt_neox.layers.4.attention.query_key_value.weight", 4, "qkv"],
  ["gpt_neox.layers.4.attention.dense.weight", 4, "o"],
  ["gpt_neox.layers.4.mlp.dense_h_to_4h.weight", 4, "up"],
  ["gpt_neox.layers.4.mlp.dense_4h_to_h.weight", 4, "down"],
  ["gpt_neox.layers.4.input_layernorm.weight", 4, "norm"],
  ["gpt_neox.final_layer_norm.weight", null, "norm"],
  ["embed_out.weight", null, "lm_head"],
  // Phi-3 fused projections
  ["model.layers.9.self_attn.qkv_proj.weight", 9, "qkv"],
  ["model.layers.9.mlp.gate_up_proj.weight", 9, "gate_up"],
  // Meta's original Llama checkpoints
  ["tok_embeddings.weight", null, "embed"],
  ["layers.6.attention.wq.weight", 6, "q"],
  ["layers.6.attention.wo.weight", 6, "o"],
  ["layers.6.feed_forward.w1.weight", 6, "gate"],
  ["layers.6.feed_forward.w2.weight", 6, "down"],
  ["layers.6.attention_norm.weight", 6, "norm"],
  ["norm.weight", null, "norm"],
  ["output.weight", null, "lm_head"],
  // unknown
  ["score.weight", null, "other"],
  ["model.layers.0.some_adapter.weight", 0, "other"],
];

test("tagTensor maps Hugging Face tensor names to layer and module", () => {
  for (const [name, layer, module] of TABLE) {
    assert.deepEqual(tagTensor(name), { layer, module }, name);
  }
});
