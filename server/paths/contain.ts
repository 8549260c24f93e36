// Realpath containment: a path is allowed when, after every symlink is
// resolved, it is one of the allowed folders or lies below one. Compared by
// whole components, so /data/models-evil is not inside /data/models.
import { readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { PathError, showPath } from "./errors";
import { normalizePath } from "./normalize";

/** True when `p` is `root` or lies below it (both absolute and resolved). */
export function isInside(root: string, p: string): boolean {
  if (p === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return p.startsWith(prefix);
}

/** Realpaths of the folders that exist (a missing root allows nothing). */
export async function realRoots(roots: readonly string[]): Promise<string[]> {
  const out = await Promise.all(roots.map((r) => realpath(r).catch(() => null)));
  return [...new Set(out.filter((r): r is string => r !== null))];
}

export interface ContainOptions {
  /** The allowed folders as configured (they are resolved here). */
  roots: readonly string[];
  /** Names the field in messages ("model path"). */
  what?: string;
  /** How to fix a refusal ("add its folder to MERGESCOPE_MODEL_ROOTS …"). */
  hint?: string;
  /** What the roots are called in messages (default "allowed folders"). */
  rootsLabel?: string;
}

function outside(input: string, real: string | null, opts: ContainOptions): PathError {
  const via = real !== null && real !== input ? ` resolves to ${showPath(real)}, which` : "";
  return new PathError(
    "PATH_NOT_ALLOWED",
    input,
    `${opts.what ?? "path"} ${showPath(input)}${via} is outside the ${opts.rootsLabel ?? "allowed folders"} (${opts.roots.join(", ")}): ` +
      `paths are checked after resolving every symlink, so a link that leads out of them is refused too. ${opts.hint ?? ""}`.trim(),
  );
}

/**
 * Normalizes `input` (normalizePath), resolves it with realpath and checks it
 * lies inside one of `opts.roots`. Returns the realpath. A missing path is
 * refused as outside when its deepest existing ancestor is (so the answer says
 * nothing about what exists outside), else PATH_NOT_FOUND.
 */
export async function resolveInside(input: string, opts: ContainOptions): Promise<string> {
  const p = normalizePath(input, opts.what);
  const roots = await realRoots(opts.roots);
  let real: string;
  try {
    real = await realpath(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const ancestor = await realpathOfExistingAncestor(p);
    if (!roots.some((r) => isInside(r, ancestor))) throw outside(input, null, opts);
    if (code === "ENOENT" || code === "ENOTDIR") throw new PathError("PATH_NOT_FOUND", input, `${opts.what ?? "path"} ${showPath(input)} does not exist; check the path`);
    if (code === "ELOOP") throw new PathError("PATH_INVALID", input, `${opts.what ?? "path"} ${showPath(input)} cannot be resolved: too many levels of symlinks (a loop?)`);
    throw new PathError("PATH_INVALID", input, `${opts.what ?? "path"} ${showPath(input)} cannot be resolved: ${code ?? (err as Error).message}`);
  }
  if (!roots.some((r) => isInside(r, real))) throw outside(input, real, opts);
  return real;
}

/** realpath of the deepest existing ancestor of `p`, with the missing tail appended. */
async function realpathOfExistingAncestor(p: string): Promise<string> {
  const tail: string[] = [];
  let cur = p;
  for (;;) {
    try {
      return path.join(await realpath(cur), ...tail.reverse());
    } catch {
      const parent = path.dirname(cur);
      if (parent === cur) return p;
      tail.push(path.basename(cur));
      cur = parent;
    }
  }
}

/** The containment refusal for a file whose opened descriptor resolved outside (open.ts, native). */
export function outsideError(input: string, real: string, opts: ContainOptions): PathError {
  return outside(input, real, opts);
}

/**
 * A checkpoint path about to be queued (already resolved inside the roots): a folder or a
 * regular file, and no weight or JSON file of a folder is a symlink leading out of the roots.
 * Only stats and readlinks — nothing is read; the engine checks every file again when it opens it
 * (native/core/path_policy.h), so this early answer is a courtesy, not the guard.
 */
export async function checkModelFolder(real: string, opts: ContainOptions): Promise<void> {
  const st = await stat(real);
  if (st.isFile()) return;
  if (!st.isDirectory())
    throw new PathError("PATH_NOT_REGULAR", real, `${opts.what ?? "path"} ${showPath(real)} is not a folder or a regular file (a FIFO, device or socket is never read)`);
  const roots = await realRoots(opts.roots);
  for (const e of await readdir(real, { withFileTypes: true })) {
    if (!e.isSymbolicLink() || !/\.(safetensors|json)$/.test(e.name)) continue;
    const file = path.join(real, e.name);
    const target = await realpath(file).catch(() => null);
    if (target !== null && !roots.some((r) => isInside(r, target))) throw outside(file, target, { ...opts, what: "model file" });
  }
}
