// Llama-shaped bf16 model families used by the benchmarks (generated once, cached).
import type { LlamaShape } from "../server/engine/synthetic/llama";

export const BENCH_PRESETS: Record<string, LlamaShape> = {
  // ~0.25B parameters: a quick run and the second point of the memory-scaling check.
  "0.25b": { hidden: 1024, layers: 16, intermediate: 2816, vocab: 32000, heads: 16, kvHeads: 4 },
  // ~1.1B parameters (TinyLlama shape: hidden 2048, 22 layers, GQA 32/4).
  "1.1b": { hidden: 2048, layers: 22, intermediate: 5632, vocab: 32000, heads: 32, kvHeads: 4 },
  // ~6.7B parameters (Llama-2-7B shape: hidden 4096, 32 layers, MHA 32/32), 13.5 GB per model.
  // On demand only (`npm run bench -- --preset 7b`): ~54 GB of disk, minutes per row.
  "7b": { hidden: 4096, layers: 32, intermediate: 11008, vocab: 32000, heads: 32, kvHeads: 32 },
};
