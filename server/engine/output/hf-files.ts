// The non-weight files that make the output loadable with transformers: config.json (as
// mergekit + transformers write it, hf-config.ts) and the tokenizer/generation files, copied
// from the base model directory.
import { copyFile, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fsyncPath, writeFileDurable } from "./durable";
import { outputConfigJson, type OutputConfig, type OutputConfigChanges } from "./hf-config";

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
 * Writes config.json (hf-config.ts: transformers' layout for known model types, else the
 * base's text with only the changed values) and copies the tokenizer files from `sourceDir`
 * into `destDir` (unless `copyTokenizer` is false: a tokenizer merge writes its own).
 * A .safetensors file as source (no directory) has nothing to copy. Returns the names written.
 */
export async function copyModelSideFiles(
  sourceDir: string | null,
  destDir: string,
  changes: OutputConfigChanges,
  opts: { copyTokenizer?: boolean } = {},
): Promise<{ written: string[]; configMode: OutputConfig["mode"] | null }> {
  if (sourceDir === null) return { written: [], configMode: null };
  try {
    if (!(await stat(sourceDir)).isDirectory()) return { written: [], configMode: null };
  } catch {
    return { written: [], configMode: null };
  }
  const written: string[] = [];
  let configMode: OutputConfig["mode"] | null = null;
  const configPath = path.join(sourceDir, "config.json");
  if (await isFile(configPath)) {
    const out = outputConfigJson(await readFile(configPath, "utf8"), changes, configPath);
    await writeFileDurable(path.join(destDir, "config.json"), out.text);
    written.push("config.json");
    configMode = out.mode;
  }
  for (const name of TOKENIZER_FILES) {
    if (opts.copyTokenizer === false && name !== "generation_config.json") continue;
    const src = path.join(sourceDir, name);
    if (!(await isFile(src))) continue;
    const dest = path.join(destDir, name);
    // copyFile follows symlinks (Hugging Face cache snapshots are symlinks to blobs).
    await copyFile(src, dest);
    await fsyncPath(dest);
    written.push(name);
  }
  return { written, configMode };
}
