// Float64 reductions in a fixed order, so every engine gets the same bits whatever its
// threading or vector width (docs/merge-methods.md: DARE's L1 rescale, slerp's norms,
// model_stock's dot products): within each 1024-element tile, 8 interleaved lanes
// (lane = offset in the tile mod 8) summed in lane order; tile sums added in order.
export const SUM_TILE = 1024;
const LANES = 8;

/** sum of term(j) for j in [0, n), float64, in the order above. */
export function tiledSum(n: number, term: (j: number) => number): number {
  let total = 0;
  const lanes = new Float64Array(LANES);
  for (let start = 0; start < n; start += SUM_TILE) {
    const end = Math.min(n, start + SUM_TILE);
    lanes.fill(0);
    for (let j = start; j < end; j++) lanes[(j - start) % LANES]! += term(j);
    let tile = 0;
    for (let l = 0; l < LANES; l++) tile += lanes[l]!;
    total += tile;
  }
  return total;
}
