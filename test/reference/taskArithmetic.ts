// mergekit `task_arithmetic`: base + lambda * (sum_i w_i * (x_i - base)) [/ sum_i w_i if normalize].
import { DIVISOR_EPSILON, makeArith } from "./arith";
import { alignToBase } from "./embed";
import type { Precision, RefTensor } from "./types";

export interface TaskArithmeticModel {
  tensor: RefTensor;
  weight: number;
}

export interface TaskArithmeticOptions extends Precision {
  normalize?: boolean; // default false
  lambda?: number; // default 1
  isEmbed?: boolean;
}

export function taskArithmetic(base: RefTensor, models: readonly TaskArithmeticModel[], options: TaskArithmeticOptions): Float32Array {
  const arith = makeArith(options);
  const lambda = options.lambda ?? 1;
  const inputs = models.map((m, i) => alignToBase(m.tensor, base.shape, options.isEmbed ?? false, `task_arithmetic model ${i}`));
  const weights = models.map((m) => arith.weightValue(m.weight));
  let divisor = arith.sum(weights);
  // mergekit treats a (near-)zero weight sum as "no normalization" instead of dividing by ~0.
  if (Math.abs(divisor) < DIVISOR_EPSILON) divisor = 1;
  const out = new Float32Array(base.data.length);
  for (let j = 0; j < out.length; j++) {
    const b = base.data[j]!;
    let mixed = arith.sum(inputs.map((x, i) => arith.mul(weights[i]!, arith.sub(x[j]!, b))));
    if (options.normalize) mixed = arith.div(mixed, divisor);
    if (lambda !== 1) mixed = arith.mul(mixed, arith.scalar(lambda));
    out[j] = arith.output(arith.add(b, mixed));
  }
  return out;
}
