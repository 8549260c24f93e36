// Where checkpoints may be registered from: only inside MERGESCOPE_MODEL_ROOTS
// (default: the data directory). Paths are compared after fs.realpath, so `..`,
// symlinks that lead outside and sibling-prefix tricks (/data/models-evil next
// to the root /data/models) are refused.
import { realpath } from "node:fs/promises";
import path from "node:path";
import { AppError } from "../../errors";
import { env } from "../../env";

export interface AllowedRoot {
  /** As configured (absolute). */
  configured: string;
  /** fs.realpath of the root, or null when it does not exist (nothing can be registered from it). */
  real: string | null;
}

export async function allowedRoots(): Promise<AllowedRoot[]> {
  return Promise.all(
    env().modelRoots.map(async (configured) => ({ configured, real: await realpath(configured).catch(() => null) })),
  );
}

/** True when `p` is `root` or lies below it (both already resolved). */
export function isInside(root: string, p: string): boolean {
  if (p === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return p.startsWith(prefix);
}

function rootsList(roots: AllowedRoot[]): string {
  return roots.map((r) => r.configured).join(", ");
}

function notAllowed(input: string, real: string | null, roots: AllowedRoot[]): AppError {
  const resolved = real !== null && real !== input ? ` (resolves to ${real})` : "";
  return new AppError(
    "PATH_NOT_ALLOWED",
    `${input}${resolved} is outside the allowed model roots (${rootsList(roots)}). ` +
      "Move or copy the checkpoint under one of them, or add its folder to MERGESCOPE_MODEL_ROOTS (colon-separated) and restart.",
  );
}

/**
 * The realpath of `input` when it exists and lies inside an allowed root;
 * AppError PATH_NOT_ALLOWED when it is outside, NOT_FOUND when it does not exist.
 */
export async function resolveAllowedPath(input: string): Promise<string> {
  const trimmed = input.trim();
  if (trimmed === "") throw new AppError("BAD_INPUT", "the path is empty; give the absolute path of a model directory");
  if (!path.isAbsolute(trimmed)) {
    throw new AppError("BAD_INPUT", `'${trimmed}' is not an absolute path; give the full path of the model directory (it starts with /)`);
  }
  if (trimmed.includes("\0")) throw new AppError("BAD_INPUT", "the path contains a NUL byte");
  const roots = await allowedRoots();
  let real: string;
  try {
    real = await realpath(trimmed);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Refuse paths outside the roots before saying whether they exist: the
    // deepest existing ancestor is resolved (it may be a symlink leading out).
    const lexical = await realpathOfExistingAncestor(path.resolve(trimmed));
    if (!roots.some((r) => r.real !== null && isInside(r.real, lexical))) throw notAllowed(trimmed, null, roots);
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new AppError("NOT_FOUND", `${trimmed} does not exist; check the path (it must be a model directory under ${rootsList(roots)})`);
    }
    throw new AppError("BAD_INPUT", `cannot read ${trimmed}: ${(err as Error).message}`);
  }
  if (!roots.some((r) => r.real !== null && isInside(r.real, real))) throw notAllowed(trimmed, real, roots);
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
