// The non-weight files that make the output loadable with transformers: config.json (as
// mergekit + transformers write it, hf-config.ts) and the tokenizer/generation files, copied
// from the base model directory. Read through server/paths (regular files only, containment
// re-checked on the opened descriptor when the server's workers pass allowed roots).
import { lstat, stat } from "node:fs/promises";
import path from "node:path";
import { copyRegularFile, PathError, readRegularFileText } from "../../paths";
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
 * Writes config.json (hf-config.ts: transformers' layout for known model types, else the
 * base's text with only the changed values) and copies the tokenizer files from `sourceDir`
 * into `destDir` (unless `copyTokenizer` is false: a tokenizer merge writes its own).
 * A .safetensors file as source (no directory) has nothing to copy. Returns the names written.
 */
export async function copyModelSideFiles(
  sourceDir: string | null,
  destDir: string,
  changes: OutputConfigChanges,
  opts: { copyTokenizer?: boolean; allowedRoots?: readonly string[] | null } = {},
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
  const open = { roots: opts.allowedRoots ?? null, what: "model file" };
  const text = (await present(configPath)) ? await skipDangling(readRegularFileText(configPath, { ...open, maxBytes: MAX_CONFIG_BYTES })) : null;
  if (text !== null) {
    const out = outputConfigJson(text.text, changes, configPath);
    await writeFileDurable(path.join(destDir, "config.json"), out.text);
    written.push("config.json");
    configMode = out.mode;
  }
  for (const name of TOKENIZER_FILES) {
    if (opts.copyTokenizer === false && name !== "generation_config.json") continue;
    const src = path.join(sourceDir, name);
    if (!(await present(src))) continue;
    const dest = path.join(destDir, name);
    // Symlinks are followed (Hugging Face cache snapshots link to ../../blobs) when their
    // target is allowed; a FIFO or a link out of the roots fails the merge with its path.
    if ((await skipDangling(copyRegularFile(src, dest, open))) === null) continue;
    await fsyncPath(dest);
    written.push(name);
  }
  return { written, configMode };
}
