// The layer × module heatmap of one analysis: for every (layer, module) cell,
// the share of the SFT model's trimmed non-zeros that the sign election
// discards, summed over the cell's tensors (TensorStat rows).
import { db } from "../../db/client";
import { AppError } from "../../errors";
import { TENSOR_MODULES } from "../../engine/stats";
import { analysisInputs, experimentContext, identifyPair, parseJsonArray } from "./context";
import type { Heatmap, HeatmapCell } from "./schemas";
import type { StoredTotals } from "./sweep";
import { pct } from "./sweep-select";

interface TensorRow {
  layer: number | null;
  module: string;
  numel: number;
  stats: string;
}

/** Groups tensors by (layer, module) for model `sftIndex`. Pure (unit-tested against the stats report). */
export function heatmapCells(tensors: readonly TensorRow[], sftIndex: number): Pick<Heatmap, "layers" | "modules" | "cells" | "total"> {
  const cells = new Map<string, HeatmapCell>();
  const layers = new Set<number | null>();
  const modules = new Set<string>();
  let nnzAll = 0;
  let discAll = 0;
  for (const t of tensors) {
    let s: { nnz_trimmed?: number[]; discarded?: number[]; rescued?: number[] };
    try {
      s = JSON.parse(t.stats) as typeof s;
    } catch {
      continue;
    }
    const nnz = s.nnz_trimmed?.[sftIndex] ?? 0;
    const disc = s.discarded?.[sftIndex] ?? 0;
    const resc = s.rescued?.[sftIndex] ?? 0;
    const k = `${t.layer ?? "null"}|${t.module}`;
    const c = cells.get(k) ?? { layer: t.layer, module: t.module, tensors: 0, numel: 0, nnzTrimmed: 0, discarded: 0, rescued: 0, pct: null };
    c.tensors += 1;
    c.numel += t.numel;
    c.nnzTrimmed += nnz;
    c.discarded += disc;
    c.rescued += resc;
    cells.set(k, c);
    layers.add(t.layer);
    modules.add(t.module);
    nnzAll += nnz;
    discAll += disc;
  }
  for (const c of cells.values()) c.pct = pct(c.discarded, c.nnzTrimmed);
  const order = TENSOR_MODULES as readonly string[];
  return {
    layers: [...layers].sort((a, b) => (a === null ? 1 : b === null ? -1 : a - b)),
    modules: [...modules].sort((a, b) => (order.indexOf(a) >>> 0) - (order.indexOf(b) >>> 0) || a.localeCompare(b)),
    cells: [...cells.values()],
    total: { nnzTrimmed: nnzAll, discarded: discAll, pct: pct(discAll, nnzAll) },
  };
}

/**
 * `onlyOfExperiment`: refuse an analysis that is not part of `experimentId`'s figures (its own, or
 * one that names its SFT model — the rule of charts/sweep.ts), for callers limited to one experiment.
 */
export async function analysisHeatmap(input: { analysisId: string; experimentId?: string | null; onlyOfExperiment?: boolean }): Promise<Heatmap> {
  const client = await db();
  const row = await client.analysis.findUnique({
    where: { id: input.analysisId },
    select: { id: true, method: true, modelPaths: true, inputModelIds: true, densities: true, totals: true, experimentId: true },
  });
  if (!row) throw new AppError("NOT_FOUND", `analysis ${input.analysisId} not found; it may have been deleted with its experiment`);
  const inputs = analysisInputs(row);
  if (input.onlyOfExperiment) {
    const own = input.experimentId ? await experimentContext(input.experimentId) : null;
    if (!own || (row.experimentId !== own.experiment.id && !(own.sft && inputs.some((x) => x.id === own.sft!.id || x.path === own.sft!.path))))
      throw new AppError("NOT_FOUND", `analysis ${input.analysisId} is not part of this view's experiment`);
  }
  let sftIndex = 0;
  const experimentId = input.experimentId ?? row.experimentId;
  let favored: boolean[] | null = null;
  try {
    favored = (JSON.parse(row.totals) as StoredTotals).models?.map((m) => m.favored === true) ?? null;
  } catch {
    favored = null;
  }
  if (experimentId) {
    const pair = identifyPair(await experimentContext(experimentId), inputs, favored);
    if (!("reason" in pair)) sftIndex = pair.sftIndex;
  } else if (favored && favored.includes(true)) sftIndex = favored.indexOf(true);
  const tensors = await client.tensorStat.findMany({ where: { analysisId: row.id }, select: { layer: true, module: true, numel: true, stats: true }, orderBy: { id: "asc" } });
  return {
    analysisId: row.id,
    method: row.method,
    densities: parseJsonArray<number>(row.densities),
    sftIndex,
    sftPath: inputs[sftIndex]?.path ?? "",
    ...heatmapCells(tensors, sftIndex),
  };
}
