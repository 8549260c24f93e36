// Hugging Face model ids (`org/name`, `org/name@revision`) resolved OFFLINE in the local
// Hugging Face cache, the layout huggingface_hub writes:
//   <cache>/models--<org>--<name>/refs/<branch or tag>    a file holding the commit hash
//   <cache>/models--<org>--<name>/snapshots/<commit>/...  the files (symlinks into ../../blobs)
// <cache> is HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
// ~/.cache/huggingface/hub (huggingface_hub's own order). Nothing is downloaded.
//
// This module only finds the snapshot folder and returns its absolute path; whether that path
// may be opened is decided by the caller's path rules (server/services/models/roots.ts: the
// cache must lie inside MERGESCOPE_MODEL_ROOTS for the server; the CLI reads what its user can).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface HfModelId {
  /** `org/name` (or a legacy `name` without organisation). */
  id: string;
  /** Branch, tag or commit hash; null = `main`. */
  revision: string | null;
}

const NAME = "[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?";
const ID = new RegExp(`^(?:${NAME}/)?${NAME}$`);
const COMMIT = /^[0-9a-f]{40}$/;
/** Revisions as huggingface_hub accepts them in refs/ (branches, tags, refs/pr/N); no `..`. */
const REVISION = /^[A-Za-z0-9._/-]{1,200}$/;

/** `org/name` / `org/name@rev` → the id, or null when the string cannot be a model id. */
export function parseHfModelId(ref: string): HfModelId | null {
  const at = ref.indexOf("@");
  const id = at < 0 ? ref : ref.slice(0, at);
  const revision = at < 0 ? null : ref.slice(at + 1);
  if (!ID.test(id) || id.includes("--") || id.includes("..")) return null;
  if (revision !== null && (!REVISION.test(revision) || revision.includes("..") || revision.startsWith("/") || revision.endsWith("/"))) return null;
  return { id, revision };
}

export function formatHfModelId(m: HfModelId): string {
  return m.revision === null ? m.id : `${m.id}@${m.revision}`;
}

/** The hub cache folder huggingface_hub would use with this environment. */
export function hfHubCacheDir(env: Record<string, string | undefined> = process.env): string {
  if (env.HF_HUB_CACHE) return path.resolve(env.HF_HUB_CACHE);
  if (env.HUGGINGFACE_HUB_CACHE) return path.resolve(env.HUGGINGFACE_HUB_CACHE);
  if (env.HF_HOME) return path.resolve(env.HF_HOME, "hub");
  const xdg = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), ".cache");
  return path.join(xdg, "huggingface", "hub");
}

export function repoFolderName(id: string): string {
  return `models--${id.replaceAll("/", "--")}`;
}

export type HfResolution =
  | { ok: true; path: string; commit: string; cacheDir: string }
  | { ok: false; reason: string; cacheDir: string };

/** The snapshot folder of `model` in `cacheDir` (default: hfHubCacheDir()). Never throws. */
export function resolveHfModel(model: HfModelId, cacheDir: string = hfHubCacheDir()): HfResolution {
  const repo = path.join(cacheDir, repoFolderName(model.id));
  const fail = (reason: string): HfResolution => ({ ok: false, reason, cacheDir });
  if (!isDir(repo)) return fail(`${model.id} is not in the Hugging Face cache (no ${repoFolderName(model.id)} in ${cacheDir})`);
  const revision = model.revision ?? "main";
  let commit: string;
  if (COMMIT.test(revision)) commit = revision;
  else {
    const refFile = path.join(repo, "refs", ...revision.split("/"));
    try {
      commit = readFileSync(refFile, "utf8").trim();
    } catch {
      const known = listRefs(path.join(repo, "refs"));
      return fail(
        `revision \`${revision}\` of ${model.id} is not in the Hugging Face cache (no refs/${revision}; cached revisions: ${known.length > 0 ? known.join(", ") : "none"})`,
      );
    }
    if (!COMMIT.test(commit)) return fail(`${path.join(repo, "refs", revision)} does not hold a commit hash`);
  }
  const snapshot = path.join(repo, "snapshots", commit);
  if (!isDir(snapshot)) return fail(`commit ${commit} of ${model.id} is not in the Hugging Face cache (no snapshots/${commit})`);
  return { ok: true, path: snapshot, commit, cacheDir };
}

export interface CachedHfModel {
  id: string;
  /** refs (branch/tag → commit) and the snapshot commits present. */
  refs: Record<string, string>;
  snapshots: string[];
}

/** Every model repository in the cache (for the models page). Unreadable entries are skipped. */
export function listHfCache(cacheDir: string = hfHubCacheDir()): CachedHfModel[] {
  let names: string[];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return [];
  }
  const out: CachedHfModel[] = [];
  for (const name of names.sort()) {
    if (!name.startsWith("models--")) continue;
    const id = name.slice("models--".length).replaceAll("--", "/");
    if (parseHfModelId(id) === null) continue;
    const repo = path.join(cacheDir, name);
    const refs: Record<string, string> = {};
    for (const ref of listRefs(path.join(repo, "refs"))) {
      try {
        refs[ref] = readFileSync(path.join(repo, "refs", ...ref.split("/")), "utf8").trim();
      } catch {
        // skipped
      }
    }
    let snapshots: string[] = [];
    try {
      snapshots = readdirSync(path.join(repo, "snapshots")).filter((c) => COMMIT.test(c)).sort();
    } catch {
      // none
    }
    if (snapshots.length > 0) out.push({ id, refs, snapshots });
  }
  return out;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function listRefs(dir: string, prefix = ""): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...listRefs(path.join(dir, e.name), `${prefix}${e.name}/`));
    else if (e.isFile()) out.push(`${prefix}${e.name}`);
  }
  return out.sort();
}
