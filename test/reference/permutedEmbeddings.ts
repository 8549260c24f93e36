// mergekit 0.1.4 PermutedEmbeddings, written out by token string: each model's embedding
// matrix rebuilt in the output vocabulary. A model keeps its own row for a token it has; else
// the token's default: the only holder's row, zeros when nobody has it, the base's row when the
// base has it, else the mean of the holders' rows computed like torch in the compute dtype
// (acc = 0; acc += row; acc /= count), holders in the given order.
import { makeArith } from "./arith";
import type { Precision } from "./types";

export interface EmbeddingModel {
  name: string;
  /** token → row in `rows` (the model's get_vocab() below its vocab_size). */
  vocab: Map<string, number>;
  rows: Float32Array;
}

export function permutedEmbeddings(
  outTokens: readonly string[],
  models: readonly EmbeddingModel[],
  cols: number,
  baseName: string | null,
  precision: Precision,
): Map<string, Float32Array> {
  const arith = makeArith(precision);
  const row = (m: EmbeddingModel, token: string) => m.rows.subarray(m.vocab.get(token)! * cols, (m.vocab.get(token)! + 1) * cols);
  const base = models.find((m) => m.name === baseName);
  const defaults = outTokens.map((token) => {
    const holders = models.filter((m) => m.vocab.has(token));
    if (holders.length === 1) return row(holders[0]!, token);
    if (holders.length === 0) return new Float32Array(cols);
    if (base?.vocab.has(token)) return row(base, token);
    const acc = new Float32Array(cols);
    for (const h of holders) {
      const r = row(h, token);
      for (let j = 0; j < cols; j++) acc[j] = arith.add(acc[j]!, arith.keep(r[j]!));
    }
    for (let j = 0; j < cols; j++) acc[j] = arith.div(acc[j]!, holders.length);
    return acc;
  });
  const out = new Map<string, Float32Array>();
  for (const m of models) {
    const rebuilt = new Float32Array(outTokens.length * cols);
    outTokens.forEach((token, id) => rebuilt.set(m.vocab.has(token) ? row(m, token) : defaults[id]!, id * cols));
    out.set(m.name, rebuilt);
  }
  return out;
}
