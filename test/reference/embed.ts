// Vocabulary-sized tensors may legitimately differ in rows between checkpoints (added
// tokens). Like mergekit, other models' embeddings are cut to the base's [rows, cols]
// before anything else; every other shape mismatch is an error.
import type { RefTensor } from "./types";

const EMBED_SUFFIXES = ["embed_tokens.weight", "lm_head.weight", "wte.weight", "embed_in.weight", "embed_out.weight", "word_embeddings.weight"];

export function isEmbedTensorName(name: string): boolean {
  return EMBED_SUFFIXES.some((s) => name === s || name.endsWith(`.${s}`));
}

/** `model`'s values laid out like `base` (cut to base's leading [rows, cols] if `isEmbed`). */
export function alignToBase(model: RefTensor, baseShape: readonly number[], isEmbed: boolean, what: string): Float32Array {
  if (sameShape(model.shape, baseShape)) return model.data;
  const cuttable =
    isEmbed &&
    model.shape.length === 2 &&
    baseShape.length === 2 &&
    model.shape[0]! >= baseShape[0]! &&
    model.shape[1]! >= baseShape[1]!;
  if (!cuttable) throw new Error(`${what}: shape ${JSON.stringify(model.shape)} does not match base ${JSON.stringify(baseShape)}`);
  const [rows, cols] = baseShape as [number, number];
  const srcCols = model.shape[1]!;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(model.data.subarray(r * srcCols, r * srcCols + cols), r * cols);
  return out;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
