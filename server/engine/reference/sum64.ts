// Float64 reductions in a fixed order, so every engine gets the same bits whatever its
// threading: sequential within each 65536-element chunk, chunk sums added in chunk order
// (docs/merge-methods.md: DARE's L1 rescale, slerp's norms, model_stock's dot products).
export const SUM_CHUNK = 65536;

/** sum of term(j) for j in [0, n), float64, chunked as above. */
export function chunkedSum(n: number, term: (j: number) => number): number {
  let total = 0;
  for (let start = 0; start < n; start += SUM_CHUNK) {
    const end = Math.min(n, start + SUM_CHUNK);
    let chunk = 0;
    for (let j = start; j < end; j++) chunk += term(j);
    total += chunk;
  }
  return total;
}
