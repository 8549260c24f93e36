// Where every row of each input's embedding / lm_head matrix comes from once it is rebuilt in
// the output vocabulary (mergekit 0.1.4 PermutedEmbeddings), as native row maps
// (NativeEmbedRowMap: runs of rows, averages, pad rows). Per output token:
//   * a model that has the token (and no `force`) keeps its own row;
//   * otherwise the token's default row: the `tokenizer.tokens` setting if any (zeros, a model's
//     row, a model's row of another token); else the only model that has it; else zeros when
//     nobody has it; else the base model's row when the base has it; else the average of the
//     holders' rows (in the compute dtype, holders summed base first then in recipe order —
//     mergekit sums in Python set order, i.e. randomly for 3+ holders).
//   * rows from vocabulary size up to pad_to_multiple_of get the mean of the rows before.
import { EngineError } from "../output/errors";
import { ROW_SOURCE_ZEROS, type NativeEmbedRowMap } from "../types";
import { paddedVocabSize, type OutputVocab } from "./vocab";

/** One input of the merge: its native model index (-1 base, 0.. models), its permutation and own vocabulary. */
export interface RowInput {
  index: number;
  label: string;
  identity: string;
  perm: Int32Array;
  /** The model's own get_vocab() (for `model_token` sources given as a token string). */
  vocab: Map<string, number>;
}

export type TokenSetting =
  | { kind: "zero"; force: boolean }
  | { kind: "model"; identity: string; force: boolean }
  | { kind: "model_token"; identity: string; tokenId: number | null; token: string | null; force: boolean }
  | { kind: "none"; force: boolean };

type Src = [model: number, row: number];
type Default = { kind: "row"; src: Src } | { kind: "zero" } | { kind: "avg"; srcs: Src[] };

export interface EmbedRowStats {
  /** Output tokens only one model has: their rows are that model's, unmerged. */
  singleHolder: { token: string; id: number; from: string }[];
  /** Tokens no model has (zeros). */
  zero: { token: string; id: number }[];
  /** Tokens averaged over several holders (no base row). */
  averaged: { token: string; id: number }[];
  /** Per input: output tokens it lacks (its rows come from elsewhere). */
  missing: { label: string; count: number }[];
}

export interface EmbedRowPlan {
  rows: number;
  maps: Map<number, NativeEmbedRowMap>;
  stats: EmbedRowStats;
}

export function planEmbedRows(
  out: OutputVocab,
  inputs: RowInput[],
  baseIdentity: string | null,
  settings: Map<string, TokenSetting>,
  padToMultipleOf: number | null,
): EmbedRowPlan {
  const V = out.tokens.length;
  const rows = paddedVocabSize(V, padToMultipleOf);
  const byIdentity = new Map(inputs.map((m) => [m.identity, m]));
  const base = baseIdentity === null ? undefined : byIdentity.get(baseIdentity);
  // Holders in summation order: base first, then the others in recipe order.
  const ordered = base ? [base, ...inputs.filter((m) => m !== base)] : inputs;
  const stats: EmbedRowStats = { singleHolder: [], zero: [], averaged: [], missing: inputs.map((m) => ({ label: m.label, count: 0 })) };

  const defaults: (Default | null)[] = new Array(V).fill(null);
  for (let id = 0; id < V; id++) {
    const token = out.tokens[id]!;
    const setting = settings.get(token);
    if (setting && setting.kind !== "none") {
      defaults[id] = userDefault(setting, id, token, byIdentity);
      continue;
    }
    const holders = ordered.filter((m) => m.perm[id]! >= 0);
    if (holders.length === 1) {
      defaults[id] = { kind: "row", src: [holders[0]!.index, holders[0]!.perm[id]!] };
      if (inputs.length > 1) stats.singleHolder.push({ token, id, from: holders[0]!.label });
    } else if (holders.length === 0) {
      defaults[id] = { kind: "zero" };
      stats.zero.push({ token, id });
    } else if (base && base.perm[id]! >= 0) {
      defaults[id] = { kind: "row", src: [base.index, base.perm[id]!] };
    } else {
      defaults[id] = { kind: "avg", srcs: holders.map((m) => [m.index, m.perm[id]!] as Src) };
      stats.averaged.push({ token, id });
    }
  }

  const maps = new Map<number, NativeEmbedRowMap>();
  inputs.forEach((m, mi) => {
    const runs: number[] = [];
    const averages: NativeEmbedRowMap["averages"] = [];
    let open: { out: number; count: number; src: number; row: number } | null = null;
    const flush = () => {
      if (open) runs.push(open.out, open.count, open.src, open.row);
      open = null;
    };
    const addRow = (outRow: number, src: number, row: number) => {
      if (open && open.src === src && open.out + open.count === outRow && (src === ROW_SOURCE_ZEROS || open.row + open.count === row)) {
        open.count++;
        return;
      }
      flush();
      open = { out: outRow, count: 1, src, row: src === ROW_SOURCE_ZEROS ? 0 : row };
    };
    for (let id = 0; id < V; id++) {
      const own = m.perm[id]!;
      const force = settings.get(out.tokens[id]!)?.force ?? false;
      if (own >= 0 && !force) {
        addRow(id, m.index, own);
        continue;
      }
      stats.missing[mi]!.count += own >= 0 ? 0 : 1;
      const d = defaults[id]!;
      if (d.kind === "row") addRow(id, d.src[0], d.src[1]);
      else if (d.kind === "zero") addRow(id, ROW_SOURCE_ZEROS, 0);
      else {
        flush();
        averages.push({ row: id, sources: d.srcs.flat() });
      }
    }
    flush();
    maps.set(m.index, { rows, runs, averages, padFrom: rows > V ? V : null });
  });
  return { rows, maps, stats };
}

function userDefault(s: TokenSetting, id: number, token: string, byIdentity: Map<string, RowInput>): Default {
  const model = (identity: string) => {
    const m = byIdentity.get(identity);
    if (!m) throw new EngineError("RECIPE_INVALID", `tokenizer.tokens.${token}: the model it names is not part of the merge`);
    return m;
  };
  if (s.kind === "zero") return { kind: "zero" };
  if (s.kind === "model") {
    const m = model(s.identity);
    const row = m.perm[id]!;
    if (row < 0) throw new EngineError("RECIPE_INVALID", `tokenizer.tokens.${token}: token ${JSON.stringify(token)} is not in ${m.label}'s vocabulary (mergekit: "Token not found in model")`);
    return { kind: "row", src: [m.index, row] };
  }
  if (s.kind === "model_token") {
    const m = model(s.identity);
    let row = s.tokenId;
    if (row === null) {
      const own = m.vocab.get(s.token!);
      if (own === undefined) throw new EngineError("RECIPE_INVALID", `tokenizer.tokens.${token}: token ${JSON.stringify(s.token)} is not in ${m.label}'s vocabulary`);
      row = own;
    }
    return { kind: "row", src: [m.index, row] };
  }
  throw new Error("unreachable");
}
