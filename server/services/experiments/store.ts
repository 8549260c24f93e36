// Experiments: create (with validation of the models' roles, language and
// shapes), list, get (with the lineage graph), update, delete.
import { AppError } from "../../errors";
import { db } from "../../db/client";
import { userLabels } from "../auth/users";
import { parseRecipeYaml } from "../../engine/recipe";
import { catalogueLanguage, languageKey, type LanguageCode } from "../languages/codes";
import { recordLanguage, splitLanguage } from "../languages/store";
import { toModelSummary } from "../models/registry";
import type { ModelRole, ModelSummary } from "../models/schemas";
import { buildLineage, type LineageMerge } from "./lineage";
import {
  EXPERIMENT_ROLES,
  type CreateExperimentInput,
  type ExperimentDetail,
  type ExperimentRole,
  type ExperimentSummary,
  type JobCounts,
  type UpdateExperimentInput,
} from "./schemas";

type Slot = { role: ExperimentRole; ids: string[]; allowed: ModelRole[]; what: string };


function fmtCount(n: number | null): string {
  return n === null ? "unknown" : n.toLocaleString("en-US");
}

/** Checks the models and returns the ExperimentModel rows to create. */
async function validateModels(input: CreateExperimentInput, language: LanguageCode): Promise<{ rows: { modelId: string; role: ExperimentRole; position: number }[]; models: ModelSummary[] }> {
  const slots: Slot[] = [
    { role: "BASE", ids: [input.baseModelId], allowed: ["BASE"], what: "the base model" },
    { role: "SFT", ids: [input.sftModelId], allowed: ["SFT"], what: "the SFT model" },
    { role: "CT", ids: input.ctModelIds, allowed: ["CT"], what: "a CT checkpoint" },
    { role: "CTSFT", ids: input.ctsftModelIds ?? [], allowed: ["CTSFT"], what: "a CTSFT checkpoint" },
    { role: "EXTRA", ids: input.extraModelIds ?? [], allowed: [], what: "an extra model" },
  ];
  const all = slots.flatMap((s) => s.ids);
  const seen = new Set<string>();
  for (const id of all) {
    if (seen.has(id)) throw new AppError("BAD_INPUT", `model ${id} is chosen twice; each model can fill one place in an experiment`);
    seen.add(id);
  }
  const client = await db();
  const found = await client.model.findMany({ where: { id: { in: all } }, include: { _count: { select: { experiments: true } } } });
  const byId = new Map(found.map((r) => [r.id, toModelSummary(r)]));
  const missing = all.filter((id) => !byId.has(id));
  if (missing.length > 0) throw new AppError("NOT_FOUND", `model${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not found; refresh the page (deleted meanwhile?)`);

  const rows: { modelId: string; role: ExperimentRole; position: number }[] = [];
  for (const slot of slots) {
    const ordered = slot.ids
      .map((id) => byId.get(id)!)
      .sort((a, b) => (slot.role === "CT" || slot.role === "CTSFT" ? (a.ctTokens ?? Infinity) - (b.ctTokens ?? Infinity) : 0));
    ordered.forEach((m, position) => {
      if (slot.allowed.length > 0 && !slot.allowed.includes(m.role)) {
        throw new AppError(
          "BAD_INPUT",
          `'${m.name}' has role ${m.role} but is chosen as ${slot.what} (needs role ${slot.allowed.join(" or ")}); change its role on the Models page or pick another model`,
        );
      }
      // Models registered before codes were checked may carry `te` for `tel`: compared as the catalogue reads them.
      if ((slot.role === "CT" || slot.role === "CTSFT") && m.language && catalogueLanguage(m.language) !== language.code) {
        throw new AppError(
          "BAD_INPUT",
          `${slot.role} checkpoint '${m.name}' is for language '${m.language}', the experiment for '${language.code}'; pick checkpoints of the target language or fix the model's language`,
        );
      }
      rows.push({ modelId: m.id, role: slot.role, position });
    });
  }
  // Everything that is merged together must have the same shape.
  const mergeable = rows.filter((r) => r.role !== "EXTRA").map((r) => byId.get(r.modelId)!);
  const ref = mergeable[0]!;
  for (const m of mergeable.slice(1)) {
    if (m.architecture && ref.architecture && m.architecture !== ref.architecture) {
      throw new AppError("BAD_INPUT", `'${m.name}' is a ${m.architecture} but '${ref.name}' is a ${ref.architecture}; models that are merged must share one architecture`);
    }
    if (m.parameterCount !== null && ref.parameterCount !== null && m.parameterCount !== ref.parameterCount) {
      throw new AppError(
        "BAD_INPUT",
        `'${m.name}' has ${fmtCount(m.parameterCount)} parameters but '${ref.name}' has ${fmtCount(ref.parameterCount)}; models that are merged must have the same shape (same base model)`,
      );
    }
  }
  return { rows, models: [...byId.values()] };
}

async function jobCountsByExperiment(ids: string[]): Promise<Map<string, JobCounts>> {
  const client = await db();
  const groups = await client.job.groupBy({ by: ["experimentId", "status"], where: { experimentId: { in: ids } }, _count: { _all: true } });
  const out = new Map<string, JobCounts>();
  for (const g of groups) {
    if (!g.experimentId) continue;
    const c = out.get(g.experimentId) ?? { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
    if (g.status in c) c[g.status as keyof JobCounts] = g._count._all;
    out.set(g.experimentId, c);
  }
  return out;
}

const summaryInclude = { models: { include: { model: { include: { _count: { select: { experiments: true } } } } } } } as const;
type ExperimentRow = Awaited<ReturnType<typeof findExperiment>>;
async function findExperiment(id: string) {
  const client = await db();
  return client.experiment.findUnique({ where: { id }, include: summaryInclude });
}

async function assertTemplate(id: string | null | undefined): Promise<void> {
  if (!id) return;
  if (!(await (await db()).evalTemplate.findUnique({ where: { id }, select: { id: true } })))
    throw new AppError("NOT_FOUND", `evaluation template ${id} not found: pick one of the templates an admin configured (Scores page)`);
}

function toSummary(row: NonNullable<ExperimentRow>, jobs: JobCounts | undefined, creators: Map<string, string>): ExperimentSummary {
  const ref = (id: string | null) => {
    const m = row.models.find((em) => em.modelId === id)?.model;
    return m ? { id: m.id, name: m.name } : null;
  };
  const count = (role: ExperimentRole) => row.models.filter((m) => m.role === role).length;
  return {
    id: row.id,
    name: row.name,
    language: row.language,
    description: row.description,
    synthetic: row.synthetic,
    createdAt: row.createdAt,
    baseModel: ref(row.baseModelId),
    sftModel: ref(row.sftModelId),
    ctCount: count("CT"),
    ctsftCount: count("CTSFT"),
    extraCount: count("EXTRA"),
    jobs: jobs ?? { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 },
    evalTemplateId: row.evalTemplateId,
    createdBy: row.createdById ? (creators.get(row.createdById) ?? null) : null,
  };
}

export async function createExperiment(input: CreateExperimentInput, createdById: string | null = null): Promise<ExperimentSummary> {
  const language = splitLanguage(input.language);
  const { rows, models } = await validateModels(input, language);
  await assertTemplate(input.evalTemplateId);
  await recordLanguage(language, { name: input.languageName });
  const client = await db();
  const created = await client.experiment.create({
    data: {
      name: input.name,
      language: language.code,
      description: input.description || null,
      baseModelId: input.baseModelId,
      sftModelId: input.sftModelId,
      synthetic: models.every((m) => m.synthetic),
      evalTemplateId: input.evalTemplateId ?? null,
      createdById,
      models: { create: rows },
    },
    include: summaryInclude,
  });
  return toSummary(created, undefined, await userLabels([createdById]));
}

export async function listExperiments(filter: { language?: string } = {}): Promise<ExperimentSummary[]> {
  const client = await db();
  const rows = await client.experiment.findMany({
    where: filter.language?.trim() ? { language: languageKey(filter.language) } : {},
    include: summaryInclude,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: 1000,
  });
  const counts = await jobCountsByExperiment(rows.map((r) => r.id));
  const creators = await userLabels(rows.map((r) => r.createdById));
  return rows.map((r) => toSummary(r, counts.get(r.id), creators));
}

/** Merge jobs of the experiment, each attributed to the CT checkpoint it merges. */
async function mergesOf(experimentId: string, ctPaths: Map<string, string>): Promise<LineageMerge[]> {
  const client = await db();
  const jobs = await client.job.findMany({ where: { experimentId, type: "merge" }, select: { payload: true, status: true }, take: 5000 });
  const out: LineageMerge[] = [];
  for (const j of jobs) {
    try {
      const p = JSON.parse(j.payload) as { recipeYaml?: unknown; recipeDir?: unknown };
      if (typeof p.recipeYaml !== "string" || typeof p.recipeDir !== "string") continue;
      const recipe = parseRecipeYaml(p.recipeYaml, { recipeDir: p.recipeDir });
      const ct = recipe.models.map((m) => ctPaths.get(m.path)).find((id) => id !== undefined);
      if (ct) out.push({ ctModelId: ct, method: recipe.method, status: j.status });
    } catch {
      // a recipe that no longer parses is not drawn; the jobs list still shows it
    }
  }
  return out;
}

export async function getExperiment(id: string): Promise<ExperimentDetail> {
  const row = await findExperiment(id);
  if (!row) throw new AppError("NOT_FOUND", `experiment ${id} not found; it may have been deleted (see the experiments list)`);
  const counts = await jobCountsByExperiment([id]);
  const models = [...row.models]
    .sort((a, b) => EXPERIMENT_ROLES.indexOf(a.role as ExperimentRole) - EXPERIMENT_ROLES.indexOf(b.role as ExperimentRole) || a.position - b.position)
    .map((em) => ({
      role: ((EXPERIMENT_ROLES as readonly string[]).includes(em.role) ? em.role : "EXTRA") as ExperimentRole,
      position: em.position,
      model: toModelSummary(em.model),
    }));
  const ofRole = (r: ExperimentRole) => models.filter((m) => m.role === r).map((m) => m.model);
  const cts = ofRole("CT");
  const merges = await mergesOf(id, new Map(cts.map((m) => [m.path, m.id])));
  const lineage = buildLineage({
    base: ofRole("BASE")[0] ?? null,
    sft: ofRole("SFT")[0] ?? null,
    cts,
    ctsfts: ofRole("CTSFT"),
    merges,
  });
  return { ...toSummary(row, counts.get(id), await userLabels([row.createdById])), models, lineage };
}

export async function updateExperiment(input: UpdateExperimentInput): Promise<ExperimentSummary> {
  const client = await db();
  const exists = await client.experiment.findUnique({ where: { id: input.id }, select: { id: true } });
  if (!exists) throw new AppError("NOT_FOUND", `experiment ${input.id} not found; it may have been deleted`);
  await assertTemplate(input.evalTemplateId);
  const row = await client.experiment.update({
    where: { id: input.id },
    data: {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description || null } : {}),
      ...(input.evalTemplateId !== undefined ? { evalTemplateId: input.evalTemplateId } : {}),
    },
    include: summaryInclude,
  });
  const counts = await jobCountsByExperiment([row.id]);
  return toSummary(row, counts.get(row.id), await userLabels([row.createdById]));
}

/** Deletes the experiment (its jobs stay, unlinked; the models stay registered). */
export async function deleteExperiment(id: string): Promise<void> {
  const client = await db();
  const r = await client.experiment.deleteMany({ where: { id } });
  if (r.count === 0) throw new AppError("NOT_FOUND", `experiment ${id} not found; it may have been deleted already`);
}
