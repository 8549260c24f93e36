// The paper's hyper-parameter protocol (Appendix B): among merged models that
// differ only by their densities (k1, k2 — what each merge job's recipe says),
// pick the densities with the best dev score and report that model's test
// score. Merged models are the outputs of finished `merge` jobs; their scores
// are found by the registered Model at the output path, or by the model name
// lm-eval wrote (the path) when the output is not registered.
import { createHash } from "node:crypto";
import path from "node:path";
import { z } from "zod";
import { db } from "../../db/client";
import { canonicalJson } from "../../jobs/idempotency";
import { parseRecipeYaml } from "../../engine/recipe";
import type { Recipe } from "../../engine/recipe";
import { AppError } from "../../errors";
import { catalogueLanguage, languageKey } from "../languages/codes";
import { computeAverages, inferMapping, listMappings, scoredTasks, type ScoreLike, type TaskMappingInput } from "./catalogue";
import type { Split } from "./lm-eval";

export const gridCandidateSchema = z.object({
  jobId: z.string(),
  outputPath: z.string(),
  modelId: z.string().nullable(),
  modelName: z.string(),
  densities: z.array(z.number()),
  devScore: z.number().nullable(),
  testScore: z.number().nullable(),
  /** False when the score averages only some of the language's benchmarks. */
  devComplete: z.boolean(),
  testComplete: z.boolean(),
  best: z.boolean(),
});
export type GridCandidate = z.infer<typeof gridCandidateSchema>;

export const gridGroupSchema = z.object({
  groupKey: z.string(),
  method: z.string(),
  basePath: z.string().nullable(),
  models: z.array(z.string()),
  bestDensities: z.array(z.number()).nullable(),
  devScore: z.number().nullable(),
  testScore: z.number().nullable(),
  bestJobId: z.string().nullable(),
  /** More than one candidate reached the best dev score (the first in density order is taken). */
  tie: z.boolean(),
  candidates: z.array(gridCandidateSchema),
});
export type GridGroup = z.infer<typeof gridGroupSchema>;

export const gridSearchResultSchema = z.object({
  score: z.object({ kind: z.enum(["language", "task"]), language: z.string().nullable(), task: z.string().nullable(), label: z.string() }),
  groups: z.array(gridGroupSchema),
});
export type GridSearchResult = z.infer<typeof gridSearchResultSchema>;

const payloadSchema = z.object({ recipeYaml: z.string(), recipeDir: z.string() });

/** Everything about a merge except the densities: merges with equal signatures form one grid. */
export function recipeSignature(r: Recipe): { key: string; densities: number[] } {
  const { notes: _notes, sourceText: _text, models, ...rest } = r;
  const sig = { ...rest, models: models.map(({ density: _d, source: _s, ...m }) => m) };
  return { key: createHash("sha256").update(canonicalJson(sig)).digest("hex").slice(0, 16), densities: models.map((m) => m.density) };
}

/** Picks the best candidate by dev score (ties: the first in density order). */
export function pickBest<T extends { densities: number[]; devScore: number | null }>(candidates: T[]): { best: T | null; tie: boolean } {
  const sorted = [...candidates].sort((a, b) => compareDensities(a.densities, b.densities));
  let best: T | null = null;
  let tie = false;
  for (const c of sorted) {
    if (c.devScore === null) continue;
    if (!best || best.devScore === null || c.devScore > best.devScore + 1e-12) {
      best = c;
      tie = false;
    } else if (Math.abs(c.devScore - best.devScore) <= 1e-12) tie = true;
  }
  return { best, tie };
}

function compareDensities(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export interface GridSearchInput {
  experimentId?: string;
  /** Score = the language's Table-3 average (default: the experiment's language). */
  language?: string;
  /** Score = this task's primary metric instead. */
  task?: string;
}

export async function gridSearch(input: GridSearchInput): Promise<GridSearchResult> {
  const client = await db();
  let language = input.language ? languageKey(input.language) : null;
  if (!language && !input.task && input.experimentId) {
    const exp = await client.experiment.findUnique({ where: { id: input.experimentId }, select: { language: true } });
    if (!exp) throw new AppError("NOT_FOUND", `experiment ${input.experimentId} not found`);
    language = catalogueLanguage(exp.language);
  }
  if (!language && !input.task) throw new AppError("BAD_INPUT", "choose a language (its average is the score) or a task");
  const allMappings = await listMappings();
  let mappings: TaskMappingInput[];
  let label: string;
  if (input.task) {
    const m = allMappings.find((x) => x.task === input.task) ?? inferMapping(input.task);
    if (!m) throw new AppError("BAD_INPUT", `task ${input.task} is not in the catalogue: add it (benchmark, language, metric) first`);
    mappings = [{ ...m, benchmark: m.task, language: "__task__" }];
    label = `${m.task} ${m.metric},${m.filter} (×${m.scale})`;
  } else {
    mappings = allMappings.filter((m) => m.language === language);
    if (mappings.length === 0) throw new AppError("BAD_INPUT", `the task catalogue has no tasks for language '${language}'`);
    const paired = mappings.filter((m) => m.devTask).map((m) => `${m.devTask} → ${m.task}`);
    label = `${language} average over ${[...new Set(mappings.map((m) => m.benchmark))].join(", ")}${paired.length ? ` (dev tasks: ${paired.join(", ")})` : ""}`;
  }
  const scoreLang = input.task ? "__task__" : (language as string);

  const jobs = await client.job.findMany({
    where: { type: "merge", status: "done", outputPath: { not: null }, ...(input.experimentId ? { experimentId: input.experimentId } : {}) },
    orderBy: [{ finishedAt: "asc" }, { id: "asc" }],
    select: { id: true, payload: true, outputPath: true },
  });
  const seen = new Set<string>();
  const groups = new Map<string, { recipe: Recipe; candidates: GridCandidate[] }>();
  for (const job of jobs) {
    const out = job.outputPath!;
    if (seen.has(out)) continue;
    seen.add(out);
    let recipe: Recipe;
    try {
      const p = payloadSchema.parse(JSON.parse(job.payload));
      recipe = parseRecipeYaml(p.recipeYaml, { recipeDir: p.recipeDir });
    } catch {
      continue; // not a recipe payload this version understands
    }
    const sig = recipeSignature(recipe);
    const names = [out, out.replace(/\/+$/, "")];
    const model = await client.model.findFirst({ where: { path: { in: names } }, select: { id: true, name: true } });
    const rows = await client.score.findMany({
      where: { task: { in: scoredTasks(mappings) }, OR: [...(model ? [{ modelId: model.id }] : []), { modelName: { in: names } }] },
      select: { modelId: true, modelName: true, task: true, split: true, metric: true, filter: true, value: true, createdAt: true },
    });
    // One candidate = one key, whether its scores were filed by model id or by path.
    const mine: ScoreLike[] = rows.map((r) => ({ ...r, modelId: "candidate", modelName: out }));
    const score = (split: Split) => {
      const avg = computeAverages(mine, mappings, split)[0]?.languages.find((l) => l.language === scoreLang);
      return { value: avg?.average ?? avg?.partialAverage ?? null, complete: avg ? avg.average !== null : false };
    };
    const dev = score("dev");
    const test = score("test");
    const g = groups.get(sig.key) ?? { recipe, candidates: [] };
    g.candidates.push({
      jobId: job.id,
      outputPath: out,
      modelId: model?.id ?? null,
      modelName: model?.name ?? path.basename(out),
      densities: sig.densities,
      devScore: dev.value,
      testScore: test.value,
      devComplete: dev.complete,
      testComplete: test.complete,
      best: false,
    });
    groups.set(sig.key, g);
  }

  const result: GridGroup[] = [];
  for (const [groupKey, g] of groups) {
    const { best, tie } = pickBest(g.candidates);
    const candidates = [...g.candidates].sort((a, b) => compareDensities(a.densities, b.densities)).map((c) => ({ ...c, best: c === best }));
    result.push({
      groupKey,
      method: g.recipe.method,
      basePath: g.recipe.basePath,
      models: g.recipe.models.map((m) => m.path),
      bestDensities: best?.densities ?? null,
      devScore: best?.devScore ?? null,
      testScore: best?.testScore ?? null,
      bestJobId: best?.jobId ?? null,
      tie,
      candidates,
    });
  }
  result.sort((a, b) => b.candidates.length - a.candidates.length || a.groupKey.localeCompare(b.groupKey));
  return { score: { kind: input.task ? "task" : "language", language: input.task ? null : language, task: input.task ?? null, label }, groups: result };
}
