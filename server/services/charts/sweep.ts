// The sweep statistics of an experiment, shaped once on the server: every
// TIES / TIES-SV Analysis row that merges the experiment's SFT model with one of
// its CT checkpoints, reduced to the SFT's and the CT's counters. The browser
// derives Figures 3–4 for any density pair from this (sweep-select.ts) without
// another request.
import { db } from "../../db/client";
import { parseRecipeYaml } from "../../engine/recipe";
import type { MarginHistogram, StatsGroup } from "../../engine/stats";
import { analysisInputs, experimentContext, identifyPair, parseJsonArray, samePath, type ExperimentContext } from "./context";
import { ELECTION_METHODS, type Checkpoint, type ElectionMethod, type ModelCounts, type SweepPoint, type SweepStats } from "./schemas";
import { densityKey } from "./sweep-select";

export interface StoredTotals {
  totals: StatsGroup;
  byLayer?: (StatsGroup & { layer: number | null })[];
  byModule?: (StatsGroup & { module: string })[];
  models?: { path: string; density: number; favored: boolean }[];
  slack_budget?: number | null;
  /** ties_sv analyses stored since the margins were added (older rows: absent). */
  margins?: MarginHistogram | null;
}

export function countsOf(g: StatsGroup, i: number): ModelCounts {
  const at = (a: number[] | undefined) => a?.[i] ?? 0;
  return {
    k: at(g.k),
    nnzTrimmed: at(g.nnz_trimmed),
    discarded: at(g.discarded),
    discardedL1: at(g.discarded_l1),
    rescued: at(g.rescued),
    conflictsWon: at(g.conflicts_won),
    inConflict: at(g.in_conflict),
    contributing: at(g.contributing),
  };
}


export interface AnalysisRow {
  id: string;
  jobId: string | null;
  experimentId: string | null;
  method: string;
  modelPaths: string;
  inputModelIds: string | null;
  densities: string;
  slack: number | null;
  slackScope: string | null;
  totals: string;
  createdAt: Date;
  job: { payload: string; status: string } | null;
}

/** The recipe's base path of an analysis (from its job's payload), or undefined when unknown. */
export function basePathOf(row: Pick<AnalysisRow, "job">): string | null | undefined {
  if (!row.job) return undefined;
  try {
    const p = JSON.parse(row.job.payload) as { recipeYaml?: unknown; recipeDir?: unknown };
    if (typeof p.recipeYaml !== "string" || typeof p.recipeDir !== "string") return undefined;
    return parseRecipeYaml(p.recipeYaml, { recipeDir: p.recipeDir }).basePath;
  } catch {
    return undefined;
  }
}

/** Turns one Analysis row of an election method into a sweep point, or says why it is not one. */
export function toSweepPoint(ctx: ExperimentContext, row: AnalysisRow): SweepPoint | { reason: string } {
  if (!(ELECTION_METHODS as readonly string[]).includes(row.method)) return { reason: `method ${row.method} has no sign election` };
  const read = readPairAnalysis(ctx, row);
  if ("reason" in read) return read;
  const { pair, stored, sftDensity, ctDensity } = read;
  const t = stored.totals;
  return {
    analysisId: row.id,
    jobId: row.jobId,
    method: row.method as ElectionMethod,
    checkpointId: pair.checkpoint.modelId,
    sftIndex: pair.sftIndex,
    ctIndex: pair.ctIndex,
    sftDensity,
    ctDensity,
    slack: row.method === "ties_sv" ? row.slack : null,
    slackScope: row.method === "ties_sv" ? row.slackScope : null,
    sft: countsOf(t, pair.sftIndex),
    ct: countsOf(t, pair.ctIndex),
    numel: t.numel ?? 0,
    signConflicts: t.sign_conflicts ?? 0,
    svCandidates: t.sv_candidates ?? 0,
    svReserved: t.sv_reserved ?? 0,
    slackBudget: stored.slack_budget ?? null,
    createdAt: row.createdAt,
  };
}

export interface PairAnalysis {
  pair: { sftIndex: number; ctIndex: number; checkpoint: Checkpoint };
  stored: StoredTotals;
  sftDensity: number;
  ctDensity: number;
}

/**
 * Reads one Analysis row of any method as the experiment's SFT model merged with one of its CT
 * checkpoints, or says why it is not one. Rows of other experiments (or none) count only when
 * their base model is the experiment's.
 */
export function readPairAnalysis(ctx: ExperimentContext, row: AnalysisRow): PairAnalysis | { reason: string } {
  const densities = parseJsonArray<number>(row.densities);
  let stored: StoredTotals;
  try {
    stored = JSON.parse(row.totals) as StoredTotals;
  } catch {
    return { reason: "statistics are not readable JSON" };
  }
  if (!stored?.totals) return { reason: "statistics have no totals" };
  const favored = stored.models?.map((m) => m.favored === true) ?? null;
  const pair = identifyPair(ctx, analysisInputs(row), favored);
  if ("reason" in pair) return pair;
  if (row.experimentId !== ctx.experiment.id) {
    const base = basePathOf(row);
    if (base === undefined || !samePath(base, ctx.base?.path)) return { reason: "queued for another base model (or its job was deleted)" };
  }
  return { pair, stored, sftDensity: densityKey(densities[pair.sftIndex] ?? 1), ctDensity: densityKey(densities[pair.ctIndex] ?? 1) };
}

/** Narrows the rows read: only these per-model density lists (recipe order, as stored). */
export interface AnalysisFilter {
  densities?: number[][];
}

/** Analysis rows that may belong to the experiment: its own, and any that name its SFT model. */
export async function candidateAnalyses(ctx: ExperimentContext, methods: readonly string[] = ELECTION_METHODS, only?: AnalysisFilter): Promise<AnalysisRow[]> {
  const client = await db();
  return client.analysis.findMany({
    where: {
      method: { in: [...methods] },
      ...(only?.densities ? { densities: { in: only.densities.map((d) => JSON.stringify(d)) } } : {}),
      OR: [
        { experimentId: ctx.experiment.id },
        ...(ctx.sft ? [{ inputModelIds: { contains: JSON.stringify(ctx.sft.id) } }, { modelPaths: { contains: JSON.stringify(ctx.sft.path) } }] : []),
      ],
    },
    select: {
      id: true,
      jobId: true,
      experimentId: true,
      method: true,
      modelPaths: true,
      inputModelIds: true,
      densities: true,
      slack: true,
      slackScope: true,
      totals: true,
      createdAt: true,
      job: { select: { payload: true, status: true } },
    },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
}

const sortNum = (xs: Iterable<number>) => [...new Set(xs)].sort((a, b) => a - b);

/** Latest point per (method, checkpoint, densities, slack): a re-run replaces an older row. */
export function dedupePoints(points: SweepPoint[]): SweepPoint[] {
  const latest = new Map<string, SweepPoint>();
  for (const p of points) {
    const k = `${p.method}|${p.checkpointId}|${p.sftDensity}|${p.ctDensity}|${p.slack ?? ""}|${p.slackScope ?? ""}`;
    const prev = latest.get(k);
    if (!prev || prev.createdAt <= p.createdAt) latest.set(k, p);
  }
  return [...latest.values()];
}

export async function sweepStats(experimentId: string, only?: AnalysisFilter): Promise<SweepStats> {
  const ctx = await experimentContext(experimentId);
  const rows = await candidateAnalyses(ctx, ELECTION_METHODS, only);
  const points: SweepPoint[] = [];
  const skipped: SweepStats["skipped"] = [];
  for (const row of rows) {
    const r = toSweepPoint(ctx, row);
    if ("reason" in r) {
      // Rows of other experiments that are not about this one are simply not ours.
      if (row.experimentId === ctx.experiment.id) skipped.push({ analysisId: row.id, method: row.method, reason: r.reason });
    } else points.push(r);
  }
  const kept = dedupePoints(points);
  const client = await db();
  const pendingJobs = await client.job.count({ where: { experimentId, type: { in: ["analyze", "analyze-sweep", "analyze-series"] }, status: { in: ["queued", "running"] } } });
  return {
    experiment: ctx.experiment,
    base: ctx.base,
    sft: ctx.sft,
    checkpoints: ctx.checkpoints,
    grid: {
      sft: sortNum(kept.map((p) => p.sftDensity)),
      ct: sortNum(kept.map((p) => p.ctDensity)),
      slack: sortNum(kept.filter((p) => p.slack !== null).map((p) => p.slack!)),
    },
    methods: ELECTION_METHODS.filter((m) => kept.some((p) => p.method === m)),
    points: kept,
    skipped,
    pendingJobs,
  };
}
