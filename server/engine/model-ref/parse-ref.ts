// mergekit model references → local folders. A reference is a string `PATH`, `PATH@REV`,
// `MODEL+LORA` (each part with an optional `@REV`), or the object form
// `{model: PATH | {path, revision}, lora: PATH | {path, revision}}`. Each PATH is a local
// path (relative to the recipe's folder) when it exists there, else a Hugging Face id looked
// up offline in the HF cache (hf-cache.ts), else a local path that does not exist (the merge
// then fails with MODEL_NOT_FOUND, explained by `describeMissing`).
import { existsSync } from "node:fs";
import { PathError } from "../../paths/errors";
import { normalizePath } from "../../paths/normalize";
import { formatHfModelId, hfHubCacheDir, parseHfModelId, resolveHfModel, type HfModelId } from "./hf-cache";

export interface ResolvedPath {
  /** Absolute local path (the HF snapshot folder for an id found in the cache). */
  path: string;
  /** As written in the recipe (with `@rev`); model cards and mergekit_config.yml use this. */
  source: string;
  /** Set when the reference is a Hugging Face id: whether and where the cache holds it. */
  hf: { id: string; revision: string | null; commit: string | null; problem: string | null } | null;
}

export interface ResolvedModelRef {
  model: ResolvedPath;
  lora: ResolvedPath | null;
}

export interface ResolveOptions {
  recipeDir: string;
  /** Hub cache folder; default hfHubCacheDir() (HF_HUB_CACHE / HF_HOME / ~/.cache/huggingface/hub). */
  hfCacheDir?: string;
}

export class ModelRefError extends Error {}

/**
 * A local reference → the absolute path every later step uses verbatim (server/paths: the
 * containment check and the engine open the same string). Trailing separators are collapsed
 * so the same directory compares equal; whitespace or control characters are refused.
 */
function localPath(ref: string, recipeDir: string): string {
  try {
    return normalizePath(ref, "model path", { relativeTo: recipeDir });
  } catch (err) {
    if (err instanceof PathError) throw new ModelRefError(err.message);
    throw err;
  }
}

/** One PATH or PATH@REV. */
export function resolvePath(text: string, opts: ResolveOptions): ResolvedPath {
  // (an empty or blank path is refused by normalizePath, naming the rule)
  if ((text.match(/@/g) ?? []).length > 1) throw new ModelRefError(`\`${text}\` has more than one \`@\` (write PATH or ORG/NAME@REVISION)`);
  const at = text.indexOf("@");
  const bare = at < 0 ? text : text.slice(0, at);
  const local = localPath(bare, opts.recipeDir);
  // A folder that exists wins, as in mergekit (a revision only makes sense for a hub id).
  if (at < 0 && existsSync(local)) return { path: local, source: text, hf: null };
  const id: HfModelId | null = parseHfModelId(text);
  if (id === null) {
    if (at >= 0) throw new ModelRefError(`\`${text}\`: \`@REVISION\` only applies to Hugging Face ids like org/name@main, and \`${bare}\` is not one`);
    return { path: local, source: text, hf: null };
  }
  const found = resolveHfModel(id, opts.hfCacheDir ?? hfHubCacheDir());
  if (found.ok) return { path: found.path, source: text, hf: { ...id, commit: found.commit, problem: null } };
  return { path: local, source: text, hf: { ...id, commit: null, problem: found.reason } };
}

function pathObject(v: unknown, where: string, opts: ResolveOptions): ResolvedPath {
  if (typeof v === "string") return resolvePath(v, opts);
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => k !== "path" && k !== "revision");
    if (extra.length > 0) throw new ModelRefError(`${where}: unknown key${extra.length > 1 ? "s" : ""} ${extra.map((k) => `\`${k}\``).join(", ")} (supported: path, revision)`);
    if (typeof o.path !== "string" || o.path === "") throw new ModelRefError(`${where}.path: expected a model path string`);
    if (o.revision != null && typeof o.revision !== "string") throw new ModelRefError(`${where}.revision: expected a string`);
    const text = o.revision ? `${o.path}@${o.revision}` : o.path;
    return resolvePath(text, opts);
  }
  throw new ModelRefError(`${where}: expected a model path string or {path, revision}`);
}

/** A model reference in any of mergekit's forms. Throws ModelRefError with a fix-it message. */
export function resolveModelRef(v: unknown, opts: ResolveOptions): ResolvedModelRef {
  if (typeof v === "string") {
    const parts = v.split("+");
    if (parts.length > 2) throw new ModelRefError(`\`${v}\` has more than one \`+\` (write MODEL+LORA with one adapter)`);
    const model = resolvePath(parts[0]!, opts);
    const lora = parts.length === 2 ? resolvePath(parts[1]!, opts) : null;
    return { model, lora };
  }
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (o.override_architecture != null) {
      throw new ModelRefError("`override_architecture` is not supported by MergeScope yet; remove it (config.json is copied from the base model)");
    }
    const extra = Object.keys(o).filter((k) => !["model", "lora", "override_architecture"].includes(k));
    if (extra.length > 0) throw new ModelRefError(`unknown key${extra.length > 1 ? "s" : ""} ${extra.map((k) => `\`${k}\``).join(", ")} in a model reference (supported: model, lora)`);
    if (o.model === undefined) throw new ModelRefError("the object form of a model reference needs `model:`");
    return { model: pathObject(o.model, "model", opts), lora: o.lora == null ? null : pathObject(o.lora, "lora", opts) };
  }
  throw new ModelRefError("expected a model path, ORG/NAME[@REVISION], MODEL+LORA, or {model: ..., lora: ...}");
}

/** `model+lora` as mergekit writes a reference back (str(ModelReference)). */
export function formatModelRef(ref: { source: string; lora?: { source: string } | null }): string {
  return ref.lora ? `${ref.source}+${ref.lora.source}` : ref.source;
}

/** Why a reference that does not exist on disk could not be found (for MODEL_NOT_FOUND). */
export function describeMissing(p: ResolvedPath): string {
  if (p.hf) {
    const shown = formatHfModelId(p.hf);
    return (
      `\`${p.source}\` is not a local path (${p.path} does not exist) and ${p.hf.problem ?? `${shown} is not in the Hugging Face cache`}. ` +
      `MergeScope reads the cache offline: download it first (\`huggingface-cli download ${p.hf.id}${p.hf.revision ? ` --revision ${p.hf.revision}` : ""}\`), ` +
      "or point HF_HUB_CACHE / HF_HOME at the cache that holds it"
    );
  }
  return `${p.path} does not exist (recipe says \`${p.source}\`). MergeScope reads local model directories, .safetensors files and models in the Hugging Face cache`;
}
