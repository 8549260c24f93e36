// Where checkpoints may be registered from: only inside MERGESCOPE_MODEL_ROOTS
// (default: the data directory). The checks themselves live in server/paths:
// one normalization (nothing trimmed), realpath containment, so `..`, symlinks
// that lead outside and sibling-prefix tricks (/data/models-evil next to the
// root /data/models) are refused.
import { realpath } from "node:fs/promises";
import { env } from "../../env";
import { checkModelFolder, isInside, MODEL_ROOTS_HINT, resolveInside } from "../../paths";

export { isInside };

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

/**
 * The realpath of `input` when it exists and lies inside an allowed root;
 * PathError (an AppError) PATH_NOT_ALLOWED when it is outside, NOT_FOUND when
 * it does not exist, BAD_INPUT when the text is not a usable absolute path.
 */
export async function resolveAllowedPath(input: string, what = "model path"): Promise<string> {
  return resolveInside(input, { roots: env().modelRoots, what, hint: MODEL_ROOTS_HINT, rootsLabel: "allowed model roots" });
}

/**
 * resolveAllowedPath for a checkpoint about to be used: also a folder or regular file whose
 * weight/JSON files do not link out of the roots (a shard symlink inside a model folder).
 */
export async function resolveAllowedModel(input: string, what = "model path"): Promise<string> {
  const real = await resolveAllowedPath(input, what);
  await checkModelFolder(real, { roots: env().modelRoots, what, hint: MODEL_ROOTS_HINT, rootsLabel: "allowed model roots" });
  return real;
}
