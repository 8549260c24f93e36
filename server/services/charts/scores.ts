// Figure 2: score vs CT tokens, one series per model family — the CT checkpoints,
// the CTSFT checkpoints, and the merges of each checkpoint with the SFT model per
// method and densities (TIES, TIES-SV, WAVG, …) — with BASE and SFT as reference
// lines. Scores come straight from the Score table: a registered model's rows by
// its id; a merge's rows by the Model registered at the merge job's output path,
// or by the name lm-eval wrote (the output path) when it is not registered.
// Points appear as soon as their scores are imported.
import path from "node:path";
import { db } from "../../db/client";
import { parseRecipeYaml, type Recipe } from "../../engine/recipe";
import { computeAverages, inferMapping, listMappings, type ScoreLike, type TaskMappingInput } from "../scores/catalogue";
import { formatTokens } from "../models/tokens";
import { languageName } from "../languages/codes";
import { paperOverlay } from "../scores/paper";
import { experimentContext, identifyPair, lookupPath, pathSpellings, samePath, type ExperimentContext } from "./context";
import type { ChartSplit, Checkpoint, Figure2Data, ScoreSeries } from "./schemas";
import { saturationOf } from "./saturation";
import { toSweepPoint } from "./sweep";
import { densityKey, densityLabel, METHOD_LABELS, PAPER_DENSITIES, pct } from "./sweep-select";

export interface MergeOutput {
  jobId: string;
  outputPath: string;
  experimentId: string | null;
  finishedAt: Date | null;
  recipe: Recipe;
  method: string;
  checkpoint: Checkpoint;
  /** [sft, ct] densities (ties / ties_sv) */
  densities: [number, number];
  slack: number | null;
  /** The manifest digest the job recorded (null for jobs from before it was recorded). */
  outputSha256: string | null;
  /** Registered Model with the output's digest, else at the output path (role MERGED when registered as such). */
  modelId: string | null;
  /** Every registration of the merged model (copies carry the same digest): scores filed under any count. */
  modelIds: string[];
  modelName: string | null;
  yaml: string;
}

/** Finished merges of the SFT model with one of the experiment's CT checkpoints (any experiment, same base). */
export async function mergeOutputs(ctx: ExperimentContext): Promise<MergeOutput[]> {
  const client = await db();
  const jobs = await client.job.findMany({
    where: { type: "merge", status: "done", outputPath: { not: null } },
    select: { id: true, payload: true, outputPath: true, outputSha256: true, experimentId: true, finishedAt: true },
    orderBy: [{ finishedAt: "asc" }, { id: "asc" }],
    take: 20_000,
  });
  const out: MergeOutput[] = [];
  for (const j of jobs) {
    let recipe: Recipe;
    let yaml: string;
    try {
      const p = JSON.parse(j.payload) as { recipeYaml?: unknown; recipeDir?: unknown };
      if (typeof p.recipeYaml !== "string" || typeof p.recipeDir !== "string") continue;
      yaml = p.recipeYaml;
      recipe = parseRecipeYaml(yaml, { recipeDir: p.recipeDir });
    } catch {
      continue;
    }
    if (j.experimentId !== ctx.experiment.id && !samePath(recipe.basePath, ctx.base?.path)) continue;
    const pair = identifyPair(
      ctx,
      recipe.models.map((m) => ({ path: m.path, id: null })),
      recipe.models.map((m) => m.favored),
    );
    if ("reason" in pair) continue;
    const sftModel = lookupPath(ctx, recipe.models[pair.sftIndex]!.path);
    if (ctx.sft && sftModel?.id !== ctx.sft.id) continue;
    out.push({
      jobId: j.id,
      outputPath: j.outputPath!,
      experimentId: j.experimentId,
      finishedAt: j.finishedAt,
      recipe,
      method: recipe.method,
      checkpoint: pair.checkpoint,
      densities: [densityKey(recipe.models[pair.sftIndex]!.density), densityKey(recipe.models[pair.ctIndex]!.density)],
      slack: recipe.method === "ties_sv" ? densityKey(recipe.slack) : null,
      outputSha256: j.outputSha256,
      modelIds: [],
      modelId: null,
      modelName: null,
      yaml,
    });
  }
  if (out.length > 0) {
    // The registered model of a merge: the one with the output's digest (the merged model wherever it
    // was copied or moved; the oldest registration when there are copies), else the one at the job's path.
    const names = out.flatMap((o) => pathSpellings(o.outputPath));
    const digests = [...new Set(out.flatMap((o) => (o.outputSha256 ? [o.outputSha256] : [])))];
    const models = await client.model.findMany({
      where: { OR: [{ path: { in: names } }, ...(digests.length ? [{ outputSha256: { in: digests } }] : [])] },
      select: { id: true, name: true, path: true, outputSha256: true },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    });
    for (const o of out) {
      const mine = models.filter((x) => (o.outputSha256 !== null && x.outputSha256 === o.outputSha256) || samePath(x.path, o.outputPath));
      o.modelIds = mine.map((x) => x.id);
      const m = (o.outputSha256 ? mine.find((x) => x.outputSha256 === o.outputSha256) : undefined) ?? mine[0];
      if (m) {
        o.modelId = m.id;
        o.modelName = m.name;
      }
    }
  }
  return out;
}

/** Series identity of a merge: method + densities (+ slack); WAVG and TA do not trim. */
export function mergeSeries(o: Pick<MergeOutput, "method" | "densities" | "slack">): { key: string; label: string; densities: number[] | null; paper: boolean } {
  const name = METHOD_LABELS[o.method] ?? o.method;
  if (o.method !== "ties" && o.method !== "ties_sv") return { key: o.method, label: name, densities: null, paper: true };
  const [s, c] = o.densities;
  const slack = o.slack !== null ? `, slack ${o.slack}` : "";
  return {
    key: `${o.method}|${s}|${c}|${o.slack ?? ""}`,
    label: `${name} (${densityLabel(s, c)}${slack})`,
    densities: [s, c],
    paper: s === PAPER_DENSITIES.sft && c === PAPER_DENSITIES.ct,
  };
}

/** Which metric of a task counts: the catalogue's, a recognised task name's, else the most common one with a preference for accuracy. */
export function taskMapping(task: string, catalogue: TaskMappingInput[], rows: { task: string; metric: string; filter: string; value: number }[]): TaskMappingInput {
  const known = catalogue.find((m) => m.task === task) ?? inferMapping(task);
  if (known) return known;
  const mine = rows.filter((r) => r.task === task);
  const counts = new Map<string, number>();
  for (const r of mine) counts.set(`${r.metric}\u0000${r.filter}`, (counts.get(`${r.metric}\u0000${r.filter}`) ?? 0) + 1);
  const pref = ["acc", "exact_match", "f1", "acc_norm"];
  const keys = [...counts.keys()].sort((a, b) => {
    const [ma] = a.split("\u0000");
    const [mb] = b.split("\u0000");
    const pa = pref.indexOf(ma!) >>> 0;
    const pb = pref.indexOf(mb!) >>> 0;
    return pa - pb || (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || a.localeCompare(b);
  });
  const [metric, filter] = (keys[0] ?? "acc\u0000none").split("\u0000");
  const fractions = mine.every((r) => Math.abs(r.value) <= 1);
  return { task, benchmark: task, language: "__task__", metric: metric!, filter: filter!, scale: fractions ? 100 : 1, priority: 0 };
}

export interface ScoredSubject {
  key: string;
  modelIds: string[];
  names: string[];
}

interface ScoreRowLite extends ScoreLike {
  isGroup: boolean;
}

/** Loads every Score row of the subjects (any split). */
async function loadScores(subjects: ScoredSubject[]): Promise<Map<string, ScoreRowLite[]>> {
  const client = await db();
  const ids = [...new Set(subjects.flatMap((s) => s.modelIds))];
  const names = [...new Set(subjects.flatMap((s) => s.names))];
  const rows = await client.score.findMany({
    where: { OR: [...(ids.length ? [{ modelId: { in: ids } }] : []), ...(names.length ? [{ modelName: { in: names } }] : [])] },
    select: { modelId: true, modelName: true, task: true, split: true, metric: true, filter: true, value: true, createdAt: true, isGroup: true },
  });
  const out = new Map<string, ScoreRowLite[]>();
  for (const s of subjects) out.set(s.key, []);
  for (const r of rows) {
    for (const s of subjects) {
      if ((r.modelId && s.modelIds.includes(r.modelId)) || s.names.includes(r.modelName)) out.get(s.key)!.push({ ...r, modelId: s.key, modelName: s.key });
    }
  }
  return out;
}

export interface SubjectValue {
  value: number;
  partial: boolean;
  detail: string | null;
}

/** The value of each subject for the task (its primary metric, scaled) or the language average. */
export function subjectValues(scores: Map<string, ScoreRowLite[]>, mappings: TaskMappingInput[], split: ChartSplit): Map<string, SubjectValue> {
  const all = [...scores.values()].flat();
  const out = new Map<string, SubjectValue>();
  if (mappings.length === 0) return out;
  for (const row of computeAverages(all, mappings, split)) {
    const lang = row.languages[0];
    if (!lang) continue;
    const value = lang.average ?? lang.partialAverage;
    if (value === null) continue;
    out.set(row.modelId ?? row.modelName, {
      value,
      partial: lang.average === null,
      detail: lang.average === null ? `${lang.covered} of ${lang.expected} benchmarks` : null,
    });
  }
  return out;
}

/** Wide rows for the chart: one per token count of the checkpoints, each series' value under its dataKey. */
export function chartRows(series: ScoreSeries[], checkpoints: Checkpoint[]): Figure2Data["rows"] {
  const tokens = [...new Set([...checkpoints.map((c) => c.tokensB), ...series.flatMap((s) => s.points.map((p) => p.tokensB))].filter((t): t is number => t !== null))].sort((a, b) => a - b);
  return tokens.map((t) => {
    const row: Figure2Data["rows"][number] = { tokensB: t, label: formatTokens(t * 1e9) };
    for (const s of series) row[s.dataKey] = s.points.find((p) => p.tokensB === t)?.value ?? null;
    return row;
  });
}

/**
 * The chosen score (a language's Table-3 average, or one task) of the experiment's base, SFT,
 * checkpoints (keys `id:<model>`) and finished merges (keys `job:<merge job>`), in one split.
 */
export async function experimentScoreValues(ctx: ExperimentContext, merges: MergeOutput[], input: { split: ChartSplit; task?: string | null }) {
  const subjects: ScoredSubject[] = [];
  const modelSubject = (id: string) => ({ key: `id:${id}`, modelIds: [id], names: [] as string[] });
  for (const m of [ctx.base, ctx.sft, ...ctx.checkpoints.map((c) => ({ id: c.modelId })), ...ctx.ctsfts.map((c) => ({ id: c.modelId }))]) if (m) subjects.push(modelSubject(m.id));
  for (const o of merges) {
    const spell = pathSpellings(o.outputPath);
    subjects.push({ key: `job:${o.jobId}`, modelIds: o.modelIds, names: [...spell, ...spell.map((s) => `${s}/`)] });
  }
  const scores = await loadScores(subjects);
  const allRows = [...scores.values()].flat();

  const catalogue = (await listMappings()).map(({ isDefault: _d, updatedAt: _u, ...m }) => m);
  const task = input.task && input.task !== "avg" ? input.task : "avg";
  let mappings: TaskMappingInput[];
  let scoreLabel: string;
  let benchmark: string | null = null;
  const lang = ctx.catalogueLanguage;
  if (task === "avg") {
    mappings = catalogue.filter((m) => m.language === lang);
    const benches = [...new Set(mappings.map((m) => m.benchmark))];
    scoreLabel = mappings.length
      ? `${languageName(lang)} average over ${benches.join(", ")} (primary metrics, %)`
      : `no tasks for language '${ctx.experiment.language}' in the task catalogue: choose a task, or add the language's tasks on the Scores page`;
  } else {
    const m = taskMapping(task, catalogue, allRows);
    mappings = [{ ...m, benchmark: m.task, language: "__task__" }];
    benchmark = catalogue.find((c) => c.task === task)?.benchmark ?? inferMapping(task)?.benchmark ?? null;
    scoreLabel = `${task}: ${m.metric}${m.filter !== "none" ? ` (${m.filter})` : ""}${m.scale === 100 ? ", %" : m.scale !== 1 ? ` ×${m.scale}` : ""}`;
  }
  return { values: subjectValues(scores, mappings, input.split), scoreLabel, task, benchmark, allRows, catalogue };
}

export async function figure2(input: { experimentId: string; split: ChartSplit; task?: string | null }): Promise<Figure2Data> {
  const ctx = await experimentContext(input.experimentId);
  const merges = await mergeOutputs(ctx);
  const { values, scoreLabel, task, benchmark, allRows, catalogue } = await experimentScoreValues(ctx, merges, input);
  const inSplit = allRows.filter((r) => r.split === input.split);
  const lang = ctx.catalogueLanguage;

  const point = (key: string, checkpoint: Checkpoint, modelId: string | null, modelName: string) => {
    const v = values.get(key);
    if (!v || checkpoint.tokensB === null) return null;
    return { checkpointId: checkpoint.modelId, tokensB: checkpoint.tokensB, value: v.value, modelId, modelName, partial: v.partial, detail: v.detail };
  };
  const series: ScoreSeries[] = [];
  const ckptSeries = (key: string, label: string, list: Checkpoint[]): ScoreSeries => ({
    key,
    dataKey: "",
    label,
    family: key,
    densities: null,
    paperDensities: true,
    points: list.map((c) => point(`id:${c.modelId}`, c, c.modelId, c.name)).filter((p): p is NonNullable<typeof p> => p !== null),
  });
  series.push(ckptSeries("CT", "CT", ctx.checkpoints));
  if (ctx.ctsfts.length > 0) series.push(ckptSeries("CTSFT", "CTSFT", ctx.ctsfts));
  const grouped = new Map<string, { s: ScoreSeries; at: Map<string, { finishedAt: number; p: ScoreSeries["points"][number] }> }>();
  for (const o of merges) {
    const id = mergeSeries(o);
    const g = grouped.get(id.key) ?? {
      s: { key: id.key, dataKey: "", label: id.label, family: o.method, densities: id.densities, paperDensities: id.paper, points: [] },
      at: new Map(),
    };
    grouped.set(id.key, g);
    const scored = point(`job:${o.jobId}`, o.checkpoint, o.modelId, o.modelName ?? path.basename(o.outputPath));
    if (!scored) continue;
    const p = { ...scored, jobId: o.jobId };
    const prev = g.at.get(o.checkpoint.modelId);
    const t = o.finishedAt?.getTime() ?? 0;
    if (!prev || prev.finishedAt <= t) g.at.set(o.checkpoint.modelId, { finishedAt: t, p });
  }
  const methodOrder = ["ties", "ties_sv", "linear", "task_arithmetic"];
  for (const g of [...grouped.values()].sort((a, b) => (methodOrder.indexOf(a.s.family) >>> 0) - (methodOrder.indexOf(b.s.family) >>> 0) || a.s.label.localeCompare(b.s.label, undefined, { numeric: true }))) {
    g.s.points = [...g.at.values()].map((x) => x.p).sort((a, b) => a.tokensB - b.tokensB);
    series.push(g.s);
  }
  series.forEach((s, i) => (s.dataKey = `s${i}`));
  const rows = chartRows(series, [...ctx.checkpoints, ...ctx.ctsfts]);
  const ref = (key: "BASE" | "SFT", m: { id: string; name: string } | null) => {
    const v = m ? values.get(`id:${m.id}`) : undefined;
    return { key, label: key, value: v?.value ?? null, modelName: m?.name ?? null, partial: v?.partial ?? false };
  };

  let paper: Figure2Data["paper"] = [];
  let paperNote: string | null = null;
  if (task === "avg" || benchmark) {
    try {
      const ov = paperOverlay({ language: lang, benchmark: task === "avg" ? null : benchmark });
      paper = ov.series.map((s) => ({ label: `${s.label} (paper)`, method: s.method, value: s.value, source: s.source }));
      paperNote = ov.note;
    } catch (err) {
      paperNote = `paper numbers unavailable: ${(err as Error).message}`;
    }
  } else paperNote = `the paper reports no numbers for ${task}`;

  const tasks = [...new Set(allRows.map((r) => r.task))].sort().map((t) => {
    const m = catalogue.find((c) => c.task === t) ?? inferMapping(t);
    return { task: t, label: m ? `${t} (${m.benchmark})` : t };
  });

  const discard = await mergeDiscardRates(ctx, series.flatMap((x) => x.points.flatMap((p) => (p.jobId ? [p.jobId] : []))));
  const saturation = series
    .map((x) => saturationOf({ key: x.key, label: x.label, points: x.points.map((p) => ({ tokensB: p.tokensB, value: p.value, discardPct: p.jobId ? (discard.get(p.jobId) ?? null) : null })) }))
    .filter((x) => x.tokensB !== null);

  return {
    saturation,
    experimentId: ctx.experiment.id,
    language: ctx.experiment.language,
    split: input.split,
    task,
    scoreLabel,
    tasks,
    series,
    rows,
    references: [ref("BASE", ctx.base), ref("SFT", ctx.sft)],
    paper,
    paperNote,
    scoreCount: inSplit.length,
    scoreCountAnySplit: allRows.length,
    mergeCount: merges.length,
  };
}

/** The SFT discard rate (%) of each merge's own sign election (merges store their analysis). */
async function mergeDiscardRates(ctx: ExperimentContext, jobIds: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (jobIds.length === 0) return out;
  const client = await db();
  const rows = await client.analysis.findMany({
    where: { jobId: { in: jobIds } },
    select: { id: true, jobId: true, experimentId: true, method: true, modelPaths: true, inputModelIds: true, densities: true, slack: true, slackScope: true, totals: true, createdAt: true, job: { select: { payload: true, status: true } } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  for (const r of rows) {
    const p = toSweepPoint(ctx, r);
    const v = "reason" in p ? null : pct(p.sft.discarded, p.sft.nnzTrimmed);
    if (v !== null && r.jobId) out.set(r.jobId, v);
  }
  return out;
}
