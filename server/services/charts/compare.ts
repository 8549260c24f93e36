// TIES vs TIES-SV at one CT checkpoint and one density pair (paper §6.2,
// Table 4): parameters of the SFT model rescued by the slack variable (total,
// per layer, per module), the SFT discard rate before and after, the scores of
// the two merged models per task with the difference, and both recipes.
import { db } from "../../db/client";
import { offload } from "../../offload/pool";
import { AppError } from "../../errors";
import type { StatsGroup } from "../../engine/stats";
import { listMappings } from "../scores/catalogue";
import { experimentContext, pathSpellings } from "./context";
import type { ChartSplit, CompareData, CompareGroup, SweepPoint } from "./schemas";
import { mergeOutputs, subjectValues, taskMapping, type MergeOutput } from "./scores";
import { candidateAnalyses, dedupePoints, toSweepPoint, type StoredTotals } from "./sweep";
import { densityKey, nearest, pct, PAPER_SLACK } from "./sweep-select";
import { marginChart } from "./margins";

function groupRows<G extends StatsGroup>(
  ties: G[] | undefined,
  sv: G[] | undefined,
  keyOf: (g: G) => string,
  labelOf: (g: G) => string,
  sftT: number,
  sftS: number,
): CompareGroup[] {
  const map = new Map<string, CompareGroup>();
  const get = (g: G) => {
    const k = keyOf(g);
    const row = map.get(k) ?? { key: k, label: labelOf(g), nnzTrimmed: 0, discardedTies: null, discardedSv: null, rescued: null, svCandidates: null, svReserved: null, discardedTiesPct: null, discardedSvPct: null, rescuedPct: null };
    map.set(k, row);
    return row;
  };
  for (const g of ties ?? []) {
    const r = get(g);
    r.nnzTrimmed = g.nnz_trimmed[sftT] ?? 0;
    r.discardedTies = g.discarded[sftT] ?? 0;
  }
  for (const g of sv ?? []) {
    const r = get(g);
    r.nnzTrimmed = g.nnz_trimmed[sftS] ?? r.nnzTrimmed;
    r.discardedSv = g.discarded[sftS] ?? 0;
    r.rescued = g.rescued[sftS] ?? 0;
    r.svCandidates = g.sv_candidates;
    r.svReserved = g.sv_reserved;
  }
  const share = (n: number | null, r: CompareGroup) => (n === null ? null : pct(n, r.nnzTrimmed));
  return [...map.values()].map((r) => ({ ...r, discardedTiesPct: share(r.discardedTies, r), discardedSvPct: share(r.discardedSv, r), rescuedPct: share(r.rescued, r) }));
}

export async function compareTiesSv(input: {
  experimentId: string;
  checkpointId: string;
  sftDensity?: number | null;
  ctDensity?: number | null;
  slack?: number | null;
  split: ChartSplit;
}): Promise<CompareData> {
  const ctx = await experimentContext(input.experimentId);
  const checkpoint = ctx.checkpoints.find((c) => c.modelId === input.checkpointId);
  if (!checkpoint) throw new AppError("NOT_FOUND", `model ${input.checkpointId} is not a CT checkpoint of experiment '${ctx.experiment.name}'`);
  const rows = await candidateAnalyses(ctx);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const points = dedupePoints(
    rows.map((r) => toSweepPoint(ctx, r)).filter((p): p is SweepPoint => !("reason" in p) && p.checkpointId === checkpoint.modelId),
  );
  const sftDensity = densityKey(input.sftDensity ?? 0.2);
  const ctDensity = densityKey(input.ctDensity ?? 1);
  const atPair = points.filter((p) => p.sftDensity === sftDensity && p.ctDensity === ctDensity);
  const tiesPoint = atPair.filter((p) => p.method === "ties").at(-1) ?? null;
  const svPoints = atPair.filter((p) => p.method === "ties_sv");
  // Merged models of the same recipes (for scores and recipes).
  const merges = (await mergeOutputs(ctx)).filter((o) => o.checkpoint.modelId === checkpoint.modelId && o.densities[0] === sftDensity && o.densities[1] === ctDensity);
  const slackOptions = [
    ...new Set([...svPoints.map((p) => p.slack), ...merges.filter((o) => o.method === "ties_sv").map((o) => o.slack)].filter((s): s is number => s !== null)),
  ].sort((a, b) => a - b);
  const slack = nearest(slackOptions, input.slack ?? PAPER_SLACK);
  const svPoint = svPoints.filter((p) => p.slack === slack).at(-1) ?? null;

  const stored = (p: SweepPoint | null): StoredTotals | null => {
    const row = p ? byId.get(p.analysisId) : undefined;
    if (!row) return null;
    try {
      return JSON.parse(row.totals) as StoredTotals;
    } catch {
      return null;
    }
  };
  const tStored = stored(tiesPoint);
  const sStored = stored(svPoint);
  const sftT = tiesPoint?.sftIndex ?? 0;
  const sftS = svPoint?.sftIndex ?? 0;
  // Layers in order, the tensors outside any layer (embeddings, final norm, LM head) last.
  const layerOrder = (k: string) => (k === "null" ? Number.POSITIVE_INFINITY : Number(k));
  const byLayer = groupRows(tStored?.byLayer, sStored?.byLayer, (g) => String(g.layer), (g) => (g.layer === null ? "outside layers" : `layer ${g.layer}`), sftT, sftS).sort(
    (a, b) => layerOrder(a.key) - layerOrder(b.key),
  );
  const byModule = groupRows(tStored?.byModule, sStored?.byModule, (g) => g.module, (g) => g.module, sftT, sftS);

  const side = (p: SweepPoint | null) =>
    p
      ? {
          analysisId: p.analysisId,
          jobId: p.jobId,
          slack: p.slack,
          slackScope: p.slackScope,
          sft: p.sft,
          ct: p.ct,
          discardedPct: pct(p.sft.discarded, p.sft.nnzTrimmed),
          svCandidates: p.svCandidates,
          svReserved: p.svReserved,
          slackBudget: p.slackBudget,
        }
      : null;

  const tiesMerge = merges.filter((o) => o.method === "ties").at(-1) ?? null;
  const svMerge = merges.filter((o) => o.method === "ties_sv" && o.slack === slack).at(-1) ?? null;

  const client = await db();
  const analysisRecipe = async (p: SweepPoint | null) => {
    if (!p?.jobId) return [];
    const job = await client.job.findUnique({ where: { id: p.jobId }, select: { id: true, payload: true } });
    if (!job) return [];
    try {
      const payload = JSON.parse(job.payload) as { recipeYaml?: unknown; recipeYamls?: unknown; recipeDir?: unknown };
      const yaml = typeof payload.recipeYaml === "string" ? payload.recipeYaml : await seriesRecipeFor(payload, p.checkpointId);
      return typeof yaml === "string" ? [{ kind: "analyze" as const, jobId: job.id, yaml, outputPath: null }] : [];
    } catch {
      return [];
    }
  };
  const mergeRecipe = (o: MergeOutput | null) => (o ? [{ kind: "merge" as const, jobId: o.jobId, yaml: o.yaml, outputPath: o.outputPath }] : []);

  // Scores of the two merged models, per task.
  const subjects = [tiesMerge, svMerge]
    .map((o, i) => (o ? { key: i === 0 ? "ties" : "ties_sv", modelIds: o.modelIds, names: pathSpellings(o.outputPath).flatMap((s) => [s, `${s}/`]) } : null))
    .filter((s): s is NonNullable<typeof s> => s !== null);
  let scoreRows: CompareData["scores"] = [];
  if (subjects.length > 0) {
    const rowsScores = await client.score.findMany({
      where: { OR: subjects.flatMap((s) => [...(s.modelIds.length ? [{ modelId: { in: s.modelIds } }] : []), { modelName: { in: s.names } }]) },
      select: { modelId: true, modelName: true, task: true, split: true, metric: true, filter: true, value: true, createdAt: true, isGroup: true },
    });
    const catalogue = (await listMappings()).map(({ isDefault: _d, updatedAt: _u, ...m }) => m);
    const bySubject = new Map<string, typeof rowsScores>();
    for (const s of subjects) bySubject.set(s.key, rowsScores.filter((r) => (r.modelId && s.modelIds.includes(r.modelId)) || s.names.includes(r.modelName)).map((r) => ({ ...r, modelId: s.key, modelName: s.key })));
    const tasks = [...new Set(rowsScores.filter((r) => r.split === input.split).map((r) => r.task))].sort();
    const mappings = tasks.map((t) => {
      const m = taskMapping(t, catalogue, rowsScores);
      return { ...m, benchmark: t, language: `task:${t}` };
    });
    // One "language" per task: computeAverages then yields each task's primary metric.
    const perTask = new Map<string, Map<string, number>>();
    for (const m of mappings) {
      const vals = subjectValues(bySubject, [m], input.split);
      perTask.set(m.task, new Map([...vals].map(([k, v]) => [k, v.value])));
    }
    const langMappings = catalogue.filter((m) => m.language === ctx.catalogueLanguage);
    const avg = subjectValues(bySubject, langMappings, input.split);
    scoreRows = tasks.map((t) => {
      const v = perTask.get(t);
      const a = v?.get("ties") ?? null;
      const b = v?.get("ties_sv") ?? null;
      const m = mappings.find((x) => x.task === t)!;
      return { task: t, label: `${t} (${m.metric}${m.filter !== "none" ? `, ${m.filter}` : ""})`, ties: a, tiesSv: b, diff: a !== null && b !== null ? b - a : null };
    });
    if (avg.size > 0) {
      const a = avg.get("ties")?.value ?? null;
      const b = avg.get("ties_sv")?.value ?? null;
      scoreRows.push({ task: "avg", label: `Average (${ctx.catalogueLanguage})`, ties: a, tiesSv: b, diff: a !== null && b !== null ? b - a : null });
    }
  }

  return {
    experiment: ctx.experiment,
    checkpoint,
    sftDensity,
    ctDensity,
    slack,
    slackOptions,
    ties: side(tiesPoint),
    tiesSv: side(svPoint),
    byLayer,
    byModule,
    split: input.split,
    scores: scoreRows,
    recipes: { ties: [...mergeRecipe(tiesMerge), ...(await analysisRecipe(tiesPoint))], tiesSv: [...mergeRecipe(svMerge), ...(await analysisRecipe(svPoint))] },
    margins: marginChart(sStored?.margins, svPoint),
  };
}

/** An analyze-series job's recipe of one checkpoint: the one whose CT model (its second) is that checkpoint. */
async function seriesRecipeFor(payload: { recipeYamls?: unknown; recipeDir?: unknown }, checkpointId: string): Promise<string | null> {
  if (!Array.isArray(payload.recipeYamls) || typeof payload.recipeDir !== "string") return null;
  const model = await (await db()).model.findUnique({ where: { id: checkpointId }, select: { path: true } });
  if (!model) return null;
  for (const yaml of payload.recipeYamls) {
    if (typeof yaml !== "string") continue;
    try {
      if ((await offload("recipe.parse", { text: yaml, recipeDir: payload.recipeDir })).models[1]?.path === model.path) return yaml;
    } catch {
      // a recipe that no longer parses names no checkpoint
    }
  }
  return null;
}
