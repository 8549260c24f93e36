// mergekit `linear`: sum_i w_i * x_i, divided by sum_i w_i when normalize (default true).
import { makeArith } from "./arith";
import { sameShape } from "./embed";
import type { Precision, RefTensor } from "./types";

export interface LinearModel {
  tensor: RefTensor;
  weight: number;
}

export interface LinearOptions extends Precision {
  normalize?: boolean;
}

export function linear(models: readonly LinearModel[], options: LinearOptions): Float32Array {
  if (models.length === 0) throw new Error("linear: no models");
  const shape = models[0]!.tensor.shape;
  for (const m of models) {
    if (!sameShape(m.tensor.shape, shape)) throw new Error(`linear: shape ${JSON.stringify(m.tensor.shape)} != ${JSON.stringify(shape)}`);
  }
  const arith = makeArith(options);
  const normalize = options.normalize ?? true;
  const weights = models.map((m) => arith.weightValue(m.weight));
  const weightSum = arith.sum(weights);
  const numel = models[0]!.tensor.data.length;
  const out = new Float32Array(numel);
  for (let j = 0; j < numel; j++) {
    let value = arith.sum(models.map((m, i) => arith.mul(weights[i]!, m.tensor.data[j]!)));
    if (normalize) value = arith.div(value, weightSum);
    out[j] = arith.output(value);
  }
  return out;
}
