// The small JSON files that make a directory a loadable Hugging Face model, plus the
// MergeScope marker that tells the UI a checkpoint is synthetic.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { BOS_TOKEN_ID, EOS_TOKEN_ID, llamaConfig, type LlamaShape } from "./llama";

export type SyntheticRole = "base" | "sft" | "ct";

export const SYNTHETIC_MARKER_FILE = "mergescope-synthetic.json";

/** Tokens per optimizer step assumed when turning tokens into a plausible global_step (1024 x 4096). */
const TOKENS_PER_STEP = 4 * 1024 * 1024;

export interface ModelFiles {
  dir: string;
  role: SyntheticRole;
  tokensB: number | null;
  seed: number;
  shape: LlamaShape;
  torchDtype: string;
}

export function writeModelSideFiles(m: ModelFiles): void {
  const write = (name: string, value: unknown) => writeFileSync(path.join(m.dir, name), `${JSON.stringify(value, null, 2)}\n`);
  write("config.json", llamaConfig(m.shape, m.torchDtype));
  write("generation_config.json", { _from_model_config: true, bos_token_id: BOS_TOKEN_ID, eos_token_id: EOS_TOKEN_ID, transformers_version: "4.44.2" });
  write("tokenizer_config.json", {
    tokenizer_class: "LlamaTokenizer",
    bos_token: "<s>",
    eos_token: "</s>",
    unk_token: "<unk>",
    add_bos_token: true,
    add_eos_token: false,
    model_max_length: 2048,
    clean_up_tokenization_spaces: false,
    legacy: false,
  });
  write("special_tokens_map.json", { bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>" });
  if (m.role === "ct" && m.tokensB !== null) {
    const tokens = Math.round(m.tokensB * 1e9);
    write("trainer_state.json", {
      global_step: Math.round(tokens / TOKENS_PER_STEP),
      num_input_tokens_seen: tokens,
      epoch: 1.0,
      log_history: [],
    });
  }
  write(SYNTHETIC_MARKER_FILE, {
    synthetic: true,
    role: m.role,
    tokensB: m.tokensB,
    seed: m.seed,
    generator: "scripts/generate-model-family.ts",
  });
}

/** Directory name of a CT checkpoint: ct-2B, ct-4B, ct-0.5B ... */
export function ctDirName(tokensB: number): string {
  return `ct-${Number(tokensB.toPrecision(12))}B`;
}
