// The non-weight files that make the output loadable with transformers: config.json (with
// torch_dtype set to what the engine wrote) and the tokenizer/generation files, copied from
// the base model directory. Read through server/paths (regular files only, containment
// re-checked on the opened descriptor when the server's workers pass allowed roots).
import { lstat, stat } from "node:fs/promises";
import path from "node:path";
import { copyRegularFile, PathError, readRegularFileText } from "../../paths";
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

/** config.json above this is not a model config (real ones are a few KiB). */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** A dangling symlink is skipped as a missing file was before; every other refusal fails the merge. */
async function skipDangling<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof PathError && err.rule === "PATH_NOT_FOUND") return null;
    throw err;
  }
}

/** Present as a directory entry (a file, or a symlink: the copy then decides whether its target may be read). */
async function present(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
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
    // defineProperty: a `__proto__` key in config.json is copied as data, not as the prototype.
    const set = (k: string, v: unknown) => Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    for (const [k, v] of Object.entries(obj)) {
      if (k === "torch_dtype" || k === "dtype") set(k, name);
      else if (top && v !== null && typeof v === "object" && !Array.isArray(v)) set(k, update(v as Record<string, unknown>, false));
      else set(k, v);
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
  options: { numHiddenLayers?: number | null; allowedRoots?: readonly string[] | null } = {},
): Promise<string[]> {
  if (sourceDir === null) return [];
  try {
    if (!(await stat(sourceDir)).isDirectory()) return [];
  } catch {
    return [];
  }
  const written: string[] = [];
  const configPath = path.join(sourceDir, "config.json");
  const open = { roots: options.allowedRoots ?? null, what: "model file" };
  const text = (await present(configPath)) ? await skipDangling(readRegularFileText(configPath, { ...open, maxBytes: MAX_CONFIG_BYTES })) : null;
  if (text !== null) {
    let config: unknown;
    try {
      config = JSON.parse(text.text);
    } catch (err) {
      throw new EngineError("MODEL_CONFIG_INVALID", `${configPath} is not valid JSON (${(err as Error).message}); fix or remove it`, { cause: err });
    }
    if (config === null || typeof config !== "object" || Array.isArray(config)) {
      throw new EngineError("MODEL_CONFIG_INVALID", `${configPath} is not a JSON object; fix or remove it`);
    }
    let updated = outDtype === null ? config : withTorchDtype(config as Record<string, unknown>, outDtype);
    if (options.numHiddenLayers != null) updated = withNumHiddenLayers(updated as Record<string, unknown>, options.numHiddenLayers);
    await writeFileDurable(path.join(destDir, "config.json"), `${JSON.stringify(updated, null, 2)}\n`);
    written.push("config.json");
  }
  for (const name of TOKENIZER_FILES) {
    const src = path.join(sourceDir, name);
    if (!(await present(src))) continue;
    const dest = path.join(destDir, name);
    // Symlinks are followed (Hugging Face cache snapshots link to ../../blobs) when their
    // target is allowed; a FIFO or a link out of the roots fails the merge with its path.
    if ((await skipDangling(copyRegularFile(src, dest, open))) === null) continue;
    await fsyncPath(dest);
    written.push(name);
  }
  return written;
}
