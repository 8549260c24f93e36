// TIES-SV: TIES with a slack variable (paper §6.2). When the SFT model (the "favored"
// model) loses a sign election, its parameter is discarded; TIES-SV lets it keep a budget
// of them, choosing the elections it lost by the smallest margin (cheapest for the others).
//
// Exact rule:
//   candidates: positions where the favored model's weighted trimmed entry is non-zero
//     and its sign differs from the elected sign;
//   margin: |election sum| at that position (the rounded sum in native mode);
//   R = min(#candidates, floor(slack * nnz(favored trimmed task vector)));
//   the R smallest-margin candidates get the favored model's sign, then TIES merges as usual.
//   Margin ties break by tensor name in code point order (= UTF-8 byte order, Python's sorted()),
//   then flat index.
//   scope "model": one R and one ranking over all tensors; "tensor": per tensor.
// slack = 0 is exactly TIES.
import { isEmbedTensorName } from "./embed";
import { disjointMerge, electTies, sign, type TiesElection, type TiesOptions, type TiesTensorInput } from "./ties";
import { tiesStats, type TiesTensorStats } from "./tiesStats";

export type TiesSvScope = "model" | "tensor";

export interface TiesSvOptions extends TiesOptions {
  /** Index (into each tensor's `models`) of the model whose lost elections may be reserved. */
  favored: number;
  /** Fraction of the favored model's trimmed non-zeros that may be reserved (paper: 0.04). */
  slack: number;
  scope?: TiesSvScope; // default "model"
}

export interface TiesSvTensorResult {
  merged: Float32Array;
  election: TiesElection;
  /** Elected signs after the slack variable was applied. */
  elected: Int8Array;
  stats: TiesTensorStats;
  candidates: number;
  reserved: number;
}

export interface TiesSvResult {
  tensors: Map<string, TiesSvTensorResult>;
  /** Totals over the model (in "tensor" scope: sums of the per-tensor values). */
  favoredNnz: number;
  candidates: number;
  /** floor(slack * favoredNnz) summed over ranking groups (the whole model, or each tensor). */
  budget: number;
  reserved: number;
}

interface Candidate {
  tensorRank: number;
  index: number;
  margin: number;
}

/** Code point order (UTF-8 byte order), not JS's default UTF-16 code unit order. */
function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export function tiesSvModel(tensors: ReadonlyMap<string, TiesTensorInput>, options: TiesSvOptions): TiesSvResult {
  validate(options);
  const names = [...tensors.keys()].sort(compareCodePoints);
  const elections = names.map((name) => {
    const input = tensors.get(name)!;
    if (!(options.favored >= 0 && options.favored < input.models.length)) {
      throw new Error(`ties_sv: favored model index ${options.favored} out of range for tensor "${name}"`);
    }
    return electTies({ ...input, isEmbed: input.isEmbed ?? isEmbedTensorName(name) }, options);
  });
  const candidates = elections.map((e, rank) => findCandidates(e, options.favored, rank));
  const favoredNnz = elections.map((e) => countNonZero(e.trimmed[options.favored]!));
  const groups = (options.scope ?? "model") === "model" ? [names.map((_, r) => r)] : names.map((_, r) => [r]);

  const elected = elections.map((e) => e.elected.slice());
  const reservedPerTensor = names.map(() => 0);
  let budget = 0;
  for (const ranks of groups) {
    const pool = ranks.flatMap((r) => candidates[r]!);
    const nnz = ranks.reduce((n, r) => n + favoredNnz[r]!, 0);
    const groupBudget = Math.floor(options.slack * nnz);
    budget += groupBudget;
    pool.sort((a, b) => a.margin - b.margin || a.tensorRank - b.tensorRank || a.index - b.index);
    for (const c of pool.slice(0, Math.min(pool.length, groupBudget))) {
      elected[c.tensorRank]![c.index] = sign(elections[c.tensorRank]!.weighted[options.favored]![c.index]!);
      reservedPerTensor[c.tensorRank]!++;
    }
  }

  const results = new Map<string, TiesSvTensorResult>();
  names.forEach((name, r) => {
    const election = elections[r]!;
    const rescued = election.weights.map((_, i) => (i === options.favored ? reservedPerTensor[r]! : 0));
    results.set(name, {
      merged: disjointMerge(tensors.get(name)!.base.data, election, elected[r]!, options),
      election,
      elected: elected[r]!,
      stats: tiesStats(election, elected[r]!, { rescued }),
      candidates: candidates[r]!.length,
      reserved: reservedPerTensor[r]!,
    });
  });
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    tensors: results,
    favoredNnz: total(favoredNnz),
    candidates: total(candidates.map((c) => c.length)),
    budget,
    reserved: total(reservedPerTensor),
  };
}

function validate(options: TiesSvOptions): void {
  if ((options.consensus ?? "sum") !== "sum") {
    throw new Error("ties_sv: requires `sum` consensus (the margin is the election sum)");
  }
  if (!(Number.isFinite(options.slack) && options.slack >= 0)) {
    throw new Error(`ties_sv: slack must be a finite number >= 0, got ${options.slack}`);
  }
  if (!Number.isInteger(options.favored)) throw new Error(`ties_sv: favored must be a model index, got ${options.favored}`);
}

function findCandidates(election: TiesElection, favored: number, tensorRank: number): Candidate[] {
  const weighted = election.weighted[favored]!;
  const out: Candidate[] = [];
  for (let j = 0; j < election.numel; j++) {
    // A zero weighted entry (including weight 0) has no sign to reserve.
    const s = sign(weighted[j]!);
    if (s !== 0 && s !== election.elected[j]) out.push({ tensorRank, index: j, margin: Math.abs(election.score[j]!) });
  }
  return out;
}

function countNonZero(values: Float32Array): number {
  let n = 0;
  for (const v of values) if (v !== 0) n++;
  return n;
}
