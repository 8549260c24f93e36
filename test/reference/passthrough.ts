// mergekit `passthrough`: the one input tensor, times the model's `scale` when one is set
// (torch: float32(scale) times the value in float32, rounded to the compute dtype).
import { makeArith } from "./arith";
import type { Precision, RefTensor } from "./types";

export function passthrough(x: RefTensor, scale: number | null, options: Precision): Float32Array {
  const arith = makeArith(options);
  const out = new Float32Array(x.data.length);
  for (let j = 0; j < out.length; j++) {
    out[j] = arith.output(scale === null ? x.data[j]! : arith.mul(x.data[j]!, Math.fround(scale)));
  }
  return out;
}
