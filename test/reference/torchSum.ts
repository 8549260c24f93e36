// torch's CPU sum of a whole float32 / bfloat16 tensor, in the order of its float32 additions
// (aten/src/ATen/native/cpu/SumKernel.cpp: cascade_sum, vectorized_inner_sum, row_sum,
// multi_row_sum), with torch's AVX2 kernels: Vectorized<float> of 8 lanes; a bfloat16 vector
// holds 16 values whose two halves are added lane by lane when loaded. Serial path (tensors
// under 32768 elements, or one torch thread). Written from the torch sources for the
// reference engine (native/core/kernels/torch_sum.h is the engine's version).

const LANES = 8;
const add = (a: number, b: number) => Math.fround(a + b);

function ceilLog2(x: number): number {
  return x <= 2 ? 1 : Math.floor(Math.log2(x - 1)) + 1;
}

/** row_sum<acc, Load>(size): an ILP-4 cascade over `size` "vectors" of `lanes` floats. */
function rowSum(size: number, lanes: number, load: (e: number, l: number) => number): number[] {
  const ilp = 4;
  const levels = 4;
  const sizeIlp = Math.floor(size / ilp);
  const acc = Array.from({ length: levels }, () => Array.from({ length: ilp }, () => new Array<number>(lanes).fill(0)));
  const levelPower = Math.max(4, Math.floor(ceilLog2(sizeIlp) / levels));
  const levelStep = 2 ** levelPower;
  const levelMask = levelStep - 1;
  const addRow = (i: number) => {
    for (let k = 0; k < ilp; k++) for (let l = 0; l < lanes; l++) acc[0]![k]![l] = add(acc[0]![k]![l]!, load(i * ilp + k, l));
  };
  let i = 0;
  while (i + levelStep <= sizeIlp) {
    for (let j = 0; j < levelStep; j++, i++) addRow(i);
    for (let j = 1; j < levels; j++) {
      for (let k = 0; k < ilp; k++)
        for (let l = 0; l < lanes; l++) {
          acc[j]![k]![l] = add(acc[j]![k]![l]!, acc[j - 1]![k]![l]!);
          acc[j - 1]![k]![l] = 0;
        }
      // (i & (mask << j*power)) != 0, in integers that stay exact for any tensor size
      if (Math.floor(i / 2 ** (j * levelPower)) % 2 ** levelPower !== 0) break;
    }
  }
  for (; i < sizeIlp; i++) addRow(i);
  for (let j = 1; j < levels; j++) for (let k = 0; k < ilp; k++) for (let l = 0; l < lanes; l++) acc[0]![k]![l] = add(acc[0]![k]![l]!, acc[j]![k]![l]!);
  for (let e = sizeIlp * ilp; e < size; e++) for (let l = 0; l < lanes; l++) acc[0]![0]![l] = add(acc[0]![0]![l]!, load(e, l));
  for (let k = 1; k < ilp; k++) for (let l = 0; l < lanes; l++) acc[0]![0]![l] = add(acc[0]![0]![l]!, acc[0]![k]![l]!);
  return acc[0]![0]!;
}

/** Sum of `values` (float32 values; bfloat16 values when `bf16`) as torch adds them; the float32 accumulator. */
export function torchSum(values: ArrayLike<number>, bf16: boolean): number {
  const n = values.length;
  const vecNumel = bf16 ? 2 * LANES : LANES;
  if (n < vecNumel) return add(0, rowSum(n, 1, (e) => values[e]!)[0]!);
  const vecSize = Math.floor(n / vecNumel);
  const lanes = rowSum(vecSize, LANES, (e, l) =>
    bf16 ? add(values[e * vecNumel + l]!, values[e * vecNumel + LANES + l]!) : values[e * vecNumel + l]!,
  );
  let total = 0;
  for (let k = vecSize * vecNumel; k < n; k++) total = add(total, values[k]!);
  for (const v of lanes) total = add(total, v);
  return total;
}
