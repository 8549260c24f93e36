// peft's merge_and_unload of one LoRA target, as mergekit uses it: the adapter cast to float32,
// delta = (B @ A) * scale (transposed for fan_in_fan_out / embedding adapters), and
// W' = round_to_storage(float32(W) + delta). B @ A is summed over the rank from +0 in
// ascending order, one f32 rounding per multiply and per add.
import { roundTo, type FloatDType } from "@/server/engine/dtype";
import type { RefTensor } from "./types";

export function loraMerge(w: RefTensor, a: RefTensor, b: RefTensor, scale: number, transpose: boolean, storage: FloatDType): Float32Array {
  const [r, q] = a.shape as [number, number];
  const [p, rb] = b.shape as [number, number];
  if (r !== rb) throw new Error(`LoRA rank: A ${JSON.stringify(a.shape)} vs B ${JSON.stringify(b.shape)}`);
  const [rows, cols] = w.shape as [number, number];
  if (transpose ? rows !== q || cols !== p : rows !== p || cols !== q) throw new Error(`LoRA delta does not fit ${JSON.stringify(w.shape)}`);
  const s = Math.fround(scale);
  const out = new Float32Array(w.data.length);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const [bi, aj] = transpose ? [j, i] : [i, j];
      let acc = 0;
      for (let k = 0; k < r; k++) acc = Math.fround(acc + Math.fround(b.data[bi * r + k]! * a.data[k * q + aj]!));
      const d = Math.fround(acc * s);
      out[i * cols + j] = roundTo(storage, Math.fround(w.data[i * cols + j]! + d));
    }
  }
  return out;
}
