// Which folders each kind of path may point into (from the environment).
import { env } from "../env";

export const MODEL_ROOTS_HINT =
  "Move or copy it under one of them, or add its folder to MERGESCOPE_MODEL_ROOTS (colon-separated) and restart.";

/** Checkpoints (registration, recipes, the engine's reads): MERGESCOPE_MODEL_ROOTS. */
export function modelRoots(): string[] {
  return env().modelRoots;
}

/** lm-eval results already on the server: the model roots and the data directory. */
export function importRoots(): string[] {
  return [...new Set([...env().modelRoots, env().dataDir])];
}

/** Models an evaluation may run on: the model roots and the merge outputs. */
export function evaluateRoots(): string[] {
  return [...new Set([...env().modelRoots, env().outputDir])];
}
