// What the charts need to know about an experiment: its base, SFT and CT
// checkpoints (with token counts), and how to recognise them in recipes and
// analyses. Analyses store the recipe's absolute model paths; models are
// registered by real path — both spellings are matched.
import { realpathSync } from "node:fs";
import path from "node:path";
import { db } from "../../db/client";
import { AppError } from "../../errors";
import { formatTokens } from "../models/tokens";
import { catalogueLanguage } from "../languages/codes";
import type { Checkpoint, ModelRef } from "./schemas";

export interface ExperimentContext {
  experiment: { id: string; name: string; language: string };
  /** The experiment's language as the task catalogue spells it (te → tel). */
  catalogueLanguage: string;
  base: ModelRef | null;
  sft: ModelRef | null;
  checkpoints: Checkpoint[];
  ctsfts: Checkpoint[];
  /** The experiment's models by every spelling of their path. */
  byPath: Map<string, ModelRef & { ctTokens: number | null }>;
  byId: Map<string, ModelRef & { ctTokens: number | null }>;
}

const realCache = new Map<string, string>();

/** The path and, when it differs, its real path (symlinks resolved). */
export function pathSpellings(p: string): string[] {
  const norm = path.normalize(p).replace(/\/+$/, "") || "/";
  let real = realCache.get(norm);
  if (real === undefined) {
    try {
      real = realpathSync(norm);
    } catch {
      real = norm;
    }
    if (realCache.size > 10_000) realCache.clear();
    realCache.set(norm, real);
  }
  return real === norm ? [norm] : [norm, real];
}

export function tokensLabel(ctTokens: number | null, fallback: string): string {
  return ctTokens === null ? fallback : formatTokens(ctTokens);
}

export function toCheckpoint(m: { id: string; name: string; path: string; ctTokens: number | null }): Checkpoint {
  return {
    modelId: m.id,
    name: m.name,
    path: m.path,
    ctTokens: m.ctTokens,
    tokensB: m.ctTokens === null ? null : m.ctTokens / 1e9,
    label: tokensLabel(m.ctTokens, m.name),
  };
}

export function byTokens(a: { ctTokens: number | null; name: string }, b: { ctTokens: number | null; name: string }): number {
  return (a.ctTokens ?? Infinity) - (b.ctTokens ?? Infinity) || a.name.localeCompare(b.name, undefined, { numeric: true });
}

export async function experimentContext(experimentId: string): Promise<ExperimentContext> {
  const client = await db();
  const row = await client.experiment.findUnique({
    where: { id: experimentId },
    include: { models: { include: { model: { select: { id: true, name: true, path: true, role: true, ctTokens: true } } } } },
  });
  if (!row) throw new AppError("NOT_FOUND", `experiment ${experimentId} not found; pick one from the experiments list`);
  const of = (role: string) => row.models.filter((em) => em.role === role).map((em) => em.model);
  const ref = (m: { id: string; name: string; path: string; role: string } | undefined): ModelRef | null =>
    m ? { id: m.id, name: m.name, path: m.path, role: m.role } : null;
  const byPath = new Map<string, ModelRef & { ctTokens: number | null }>();
  const byId = new Map<string, ModelRef & { ctTokens: number | null }>();
  for (const em of row.models) {
    const m = em.model;
    const entry = { id: m.id, name: m.name, path: m.path, role: em.role, ctTokens: m.ctTokens };
    byId.set(m.id, entry);
    for (const p of pathSpellings(m.path)) byPath.set(p, entry);
  }
  return {
    experiment: { id: row.id, name: row.name, language: row.language },
    catalogueLanguage: catalogueLanguage(row.language),
    base: ref(of("BASE")[0] ?? row.models.find((em) => em.modelId === row.baseModelId)?.model),
    sft: ref(of("SFT")[0] ?? row.models.find((em) => em.modelId === row.sftModelId)?.model),
    checkpoints: of("CT").sort(byTokens).map(toCheckpoint),
    ctsfts: of("CTSFT").sort(byTokens).map(toCheckpoint),
    byPath,
    byId,
  };
}

/** The experiment model a recipe/analysis path names, if any. */
export function lookupPath(ctx: ExperimentContext, p: string): (ModelRef & { ctTokens: number | null }) | undefined {
  for (const s of pathSpellings(p)) {
    const hit = ctx.byPath.get(s);
    if (hit) return hit;
  }
  return undefined;
}

export function samePath(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  const sa = pathSpellings(a);
  return pathSpellings(b).some((x) => sa.includes(x));
}

/** One input of a merge or analysis: its folder, and the registered model's id when it was known. */
export interface InputRef {
  path: string;
  id: string | null;
}

/** The experiment model an input is: by id first (a moved folder keeps its model), else by path. */
export function lookupInput(ctx: ExperimentContext, input: InputRef): (ModelRef & { ctTokens: number | null }) | undefined {
  return (input.id ? ctx.byId.get(input.id) : undefined) ?? lookupPath(ctx, input.path);
}

/** An Analysis row's inputs: paths in recipe order with the ids recorded next to them (older rows: none). */
export function analysisInputs(row: { modelPaths: string; inputModelIds: string | null }): InputRef[] {
  const paths = parseJsonArray<unknown>(row.modelPaths).map(String);
  const ids = row.inputModelIds ? parseJsonArray<unknown>(row.inputModelIds) : [];
  return paths.map((p, i) => ({ path: p, id: typeof ids[i] === "string" ? (ids[i] as string) : null }));
}

/** A stored JSON array, or [] when the text is not one. */
export function parseJsonArray<T>(text: string): T[] {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? (v as T[]) : [];
  } catch {
    return [];
  }
}

/** Which models of a two-model TIES recipe are the SFT and the CT checkpoint, or why they cannot be told apart. */
export function identifyPair(
  ctx: ExperimentContext,
  inputs: readonly InputRef[],
  favored: readonly boolean[] | null,
): { sftIndex: number; ctIndex: number; checkpoint: Checkpoint } | { reason: string } {
  const paths = inputs.map((x) => x.path);
  if (paths.length !== 2) return { reason: `merges ${paths.length} models; Figures 3–4 describe an SFT model merged with one CT checkpoint` };
  const matched = inputs.map((x) => lookupInput(ctx, x));
  let sftIndex = matched.findIndex((m) => m !== undefined && ctx.sft !== null && m.id === ctx.sft.id);
  if (sftIndex < 0) sftIndex = favored ? favored.findIndex((f) => f) : -1;
  if (sftIndex < 0) sftIndex = 0;
  const ctIndex = 1 - sftIndex;
  const ct = matched[ctIndex];
  const checkpoint = ct ? ctx.checkpoints.find((c) => c.modelId === ct.id) : undefined;
  if (!checkpoint) return { reason: `${paths[ctIndex]} is not a CT checkpoint of this experiment` };
  if (checkpoint.ctTokens === null) return { reason: `CT checkpoint '${checkpoint.name}' has no token count; enter it on the Models page` };
  return { sftIndex, ctIndex, checkpoint };
}
