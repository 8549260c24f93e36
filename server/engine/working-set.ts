// The engine's memory bound, as an estimate the job scheduler can budget with.
// The engine streams tensor by tensor, so its peak memory follows the largest
// tensor, not the model: per input, two f32 slots (one being read, one being
// merged) and the output array the writer thread narrows and hashes — measured
// at ~6.5× the largest tensor's f32 size for 3 inputs (README, Benchmarks),
// which (2 × inputs + 1) × f32 size covers — plus the Node process itself.
import type { Recipe } from "./recipe/types";
import { inspectModel } from "./native-merge";

/** What a worker process needs besides the engine's buffers (V8 heap, the addon, page tables). */
export const PROCESS_BASELINE_BYTES = 256 * 2 ** 20;

export function workingSetFromLargestTensor(largestNumel: number, inputs: number): number {
  return largestNumel * 4 * (2 * Math.max(1, inputs) + 1) + PROCESS_BASELINE_BYTES;
}

/** Estimated peak memory of merging or analysing `recipe` (reads the safetensors headers of its first model). */
export function estimateWorkingSet(recipe: Recipe, opts: { allowedRoots?: readonly string[] | null } = {}): number {
  const inputs = recipe.models.length + (recipe.basePath !== null ? 1 : 0);
  const probe = recipe.basePath ?? recipe.models[0]?.path;
  if (!probe) return PROCESS_BASELINE_BYTES;
  let largest = 0;
  for (const t of inspectModel(probe, { allowedRoots: opts.allowedRoots }).tensors) largest = Math.max(largest, t.shape.reduce((a, b) => a * b, 1));
  return workingSetFromLargestTensor(largest, inputs);
}
