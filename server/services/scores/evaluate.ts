// Queues `evaluate` jobs: one model (on demand), every merged output of an
// experiment, or — the hook for merges — a merge's output right after it is
// published when its experiment has an evaluation template. Commands come only
// from admin-configured templates (eval-templates.ts), named by id. Also the
// paper's numbers for an experiment's language, as reference series.
import path from "node:path";
import { db } from "../../db/client";
import { AppError } from "../../errors";
import { enqueueJob } from "../../jobs/client";
import type { JobSummary } from "../../jobs/status";
import { catalogueLanguage } from "../languages/codes";
import { listMappings, taskOnSplit } from "./catalogue";
import { evalTemplateCommand } from "./eval-templates";
import { EXAMPLE_EVAL_TEMPLATE } from "./eval-command";
import type { Split } from "./lm-eval";
import { paperOverlay, type PaperMethod, type PaperOverlay } from "./paper";

export const DEFAULT_EVAL_TIMEOUT_SECONDS = 6 * 3600;

export interface EvaluateRequest {
  experimentId?: string | null;
  modelId?: string | null;
  modelPath?: string | null;
  tasks?: string[];
  /** An evaluation template's id; default: the experiment's. */
  templateId?: string | null;
  timeoutSeconds?: number;
  split?: Split | null;
  force?: boolean;
  createdById?: string | null;
}

/** The catalogue's tasks for a language: per benchmark the preferred (lowest priority) task; on the dev split its dev task when paired. */
export async function defaultTasksFor(language: string, split: Split = "test"): Promise<string[]> {
  const code = catalogueLanguage(language);
  const mappings = (await listMappings()).filter((m) => m.language === code);
  const best = new Map<string, (typeof mappings)[number]>();
  for (const m of mappings) {
    const prev = best.get(m.benchmark);
    if (!prev || m.priority < prev.priority) best.set(m.benchmark, m);
  }
  return [...best.values()].map((m) => taskOnSplit(m, split)).sort();
}

export async function enqueueEvaluation(
  req: EvaluateRequest,
): Promise<{ job: JobSummary; created: boolean; tasks: string[]; template: { id: string; name: string }; modelPath: string }> {
  const client = await db();
  const experiment = req.experimentId
    ? await client.experiment.findUnique({ where: { id: req.experimentId }, select: { id: true, language: true, evalTemplateId: true } })
    : null;
  if (req.experimentId && !experiment) throw new AppError("NOT_FOUND", `experiment ${req.experimentId} not found`);
  const model = req.modelId ? await client.model.findUnique({ where: { id: req.modelId }, select: { id: true, path: true, name: true, language: true } }) : null;
  if (req.modelId && !model) throw new AppError("NOT_FOUND", `model ${req.modelId} is not registered`);
  const modelPath = model?.path ?? req.modelPath ?? null;
  if (!modelPath) throw new AppError("BAD_INPUT", "name the model to evaluate (a registered model or an absolute path)");
  if (!path.isAbsolute(modelPath)) throw new AppError("BAD_INPUT", `model path must be absolute: ${modelPath}`);
  const templateId = req.templateId || experiment?.evalTemplateId || null;
  if (!templateId)
    throw new AppError("BAD_INPUT", `no evaluation template: choose one${experiment ? " or set the experiment's" : ""} (admins configure templates on the Scores page, e.g. ${EXAMPLE_EVAL_TEMPLATE})`);
  const template = await evalTemplateCommand(templateId);
  if (!template) throw new AppError("NOT_FOUND", `evaluation template ${templateId} not found: pick one of the configured templates`);
  const language = experiment?.language ?? model?.language ?? null;
  const tasks = req.tasks?.length ? req.tasks : language ? await defaultTasksFor(language, req.split ?? "test") : [];
  if (tasks.length === 0) throw new AppError("BAD_INPUT", `no tasks to evaluate: give tasks${language ? ` (the catalogue has none for '${language}')` : " or an experiment with a language"}`);
  const r = await enqueueJob({
    type: "evaluate",
    payload: {
      modelPath,
      ...(model ? { modelId: model.id } : {}),
      tasks,
      templateId: template.id,
      timeoutSeconds: req.timeoutSeconds ?? DEFAULT_EVAL_TIMEOUT_SECONDS,
      ...(req.split ? { split: req.split } : {}),
      label: `evaluate ${model?.name ?? path.basename(modelPath)}`,
    },
    experimentId: experiment?.id ?? null,
    force: req.force,
    createdById: req.createdById ?? null,
  });
  return { ...r, tasks, template: { id: template.id, name: template.name }, modelPath };
}

/** Evaluates every published merge output of an experiment (already evaluated ones are not queued twice). */
export async function enqueueExperimentEvaluations(
  input: { experimentId: string; split?: Split | null; timeoutSeconds?: number },
  createdById: string | null = null,
): Promise<{ jobs: JobSummary[]; created: number }> {
  const client = await db();
  const merges = await client.job.findMany({ where: { experimentId: input.experimentId, type: "merge", status: "done", outputPath: { not: null } }, select: { outputPath: true }, orderBy: { finishedAt: "asc" } });
  const paths = [...new Set(merges.map((m) => m.outputPath!))];
  if (paths.length === 0) throw new AppError("BAD_INPUT", "the experiment has no finished merges to evaluate");
  const jobs: JobSummary[] = [];
  let created = 0;
  for (const p of paths) {
    const registered = await client.model.findFirst({ where: { path: p }, select: { id: true } });
    const r = await enqueueEvaluation({ experimentId: input.experimentId, modelId: registered?.id ?? null, modelPath: p, split: input.split, timeoutSeconds: input.timeoutSeconds, createdById });
    jobs.push(r.job);
    if (r.created) created++;
  }
  return { jobs, created };
}

/**
 * For the merge pipeline: once a merge's output is published, queue its evaluation
 * when the experiment has an evaluation template. Returns null when there is nothing to do.
 */
export async function evaluateAfterMerge(input: { experimentId: string | null; outputPath: string }): Promise<JobSummary | null> {
  if (!input.experimentId) return null;
  const client = await db();
  const exp = await client.experiment.findUnique({ where: { id: input.experimentId }, select: { evalTemplateId: true } });
  if (!exp?.evalTemplateId) return null;
  const registered = await client.model.findFirst({ where: { path: input.outputPath }, select: { id: true } });
  return (await enqueueEvaluation({ experimentId: input.experimentId, modelId: registered?.id ?? null, modelPath: input.outputPath })).job;
}

/** The paper's reference series for an experiment's language (for its charts). */
export async function experimentPaperOverlay(input: { experimentId: string; benchmark?: string | null; methods?: PaperMethod[] }): Promise<PaperOverlay> {
  const client = await db();
  const exp = await client.experiment.findUnique({ where: { id: input.experimentId }, select: { language: true } });
  if (!exp) throw new AppError("NOT_FOUND", `experiment ${input.experimentId} not found`);
  return paperOverlay({ language: exp.language, benchmark: input.benchmark, methods: input.methods });
}
