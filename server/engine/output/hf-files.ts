// The non-weight files that make the output loadable with transformers: config.json (with
// torch_dtype set to what the engine wrote) and the tokenizer/generation files, copied from
// the base model directory.
import { copyFile, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { torchDtypeName } from "../recipe/types";
import type { StorageDtype } from "../types";
import { EngineError } from "./errors";
import { fsyncPath, writeFileDurable } from "./durable";

export const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer.model",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "added_tokens.json",
  "vocab.json",
  "merges.txt",
  "generation_config.json",
  "chat_template.jinja",
] as const;

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/**
 * Sets torch_dtype (and `dtype`, newer transformers' name, when present) at the top level
 * and in nested sub-configs that carry one (e.g. text_config of multimodal models).
 */
export function withTorchDtype(config: Record<string, unknown>, dtype: StorageDtype): Record<string, unknown> {
  const name = torchDtypeName(dtype);
  const update = (obj: Record<string, unknown>, top: boolean): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (k === "torch_dtype" || k === "dtype") out[k] = name;
      else if (top && v !== null && typeof v === "object" && !Array.isArray(v)) out[k] = update(v as Record<string, unknown>, false);
      else out[k] = v;
    }
    if (top) out.torch_dtype = name;
    return out;
  };
  return update(config, true);
}

/** Sets `num_hidden_layers` (slices change the layer count), where the config has it. */
export function withNumHiddenLayers(config: Record<string, unknown>, n: number): Record<string, unknown> {
  return "num_hidden_layers" in config ? { ...config, num_hidden_layers: n } : config;
}

/**
 * Copies config.json (dtype updated) and the tokenizer files from `sourceDir` into `destDir`.
 * A .safetensors file as source (no directory) has nothing to copy. Returns the names written.
 */
export async function copyModelSideFiles(
  sourceDir: string | null,
  destDir: string,
  outDtype: StorageDtype | null,
  changes: { numHiddenLayers?: number | null } = {},
): Promise<string[]> {
  if (sourceDir === null) return [];
  try {
    if (!(await stat(sourceDir)).isDirectory()) return [];
  } catch {
    return [];
  }
  const written: string[] = [];
  const configPath = path.join(sourceDir, "config.json");
  if (await isFile(configPath)) {
    let config: unknown;
    try {
      config = JSON.parse(await readFile(configPath, "utf8"));
    } catch (err) {
      throw new EngineError("MODEL_CONFIG_INVALID", `${configPath} is not valid JSON (${(err as Error).message}); fix or remove it`, { cause: err });
    }
    if (config === null || typeof config !== "object" || Array.isArray(config)) {
      throw new EngineError("MODEL_CONFIG_INVALID", `${configPath} is not a JSON object; fix or remove it`);
    }
    let updated = outDtype === null ? config : withTorchDtype(config as Record<string, unknown>, outDtype);
    if (changes.numHiddenLayers != null) updated = withNumHiddenLayers(updated as Record<string, unknown>, changes.numHiddenLayers);
    await writeFileDurable(path.join(destDir, "config.json"), `${JSON.stringify(updated, null, 2)}\n`);
    written.push("config.json");
  }
  for (const name of TOKENIZER_FILES) {
    const src = path.join(sourceDir, name);
    if (!(await isFile(src))) continue;
    const dest = path.join(destDir, name);
    // copyFile follows symlinks (Hugging Face cache snapshots are symlinks to blobs).
    await copyFile(src, dest);
    await fsyncPath(dest);
    written.push(name);
  }
  return written;
}
