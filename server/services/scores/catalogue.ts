// The task catalogue: which lm-eval task measures which of the paper's
// benchmarks in which language, and which metric counts (the primary metric).
// A language's average is computed like the paper's Table 3: per benchmark of
// the language the primary metric (in %), then the mean over the benchmarks.
// Defaults are seeded into the TaskMapping table, where users edit them.
import { z } from "zod";
import { db, writeTransaction, type DbTx } from "../../db/client";
import { AppError } from "../../errors";
import { PAPER_LANGUAGES, languageKey, languageOfTaskName } from "../languages/codes";
import { languageCodeInput } from "../languages/schemas";
import { recordLanguage, splitLanguage } from "../languages/store";
import type { Split } from "./lm-eval";

/** A catalogue row as stored (language: the ISO 639-3 code). */
export const taskMappingSchema = z.object({
  task: z.string().min(1).max(200),
  benchmark: z.string().min(1).max(100),
  language: z.string().min(2).max(20),
  metric: z.string().min(1).max(100),
  filter: z.string().min(1).max(100),
  scale: z.number().positive().max(1000),
  priority: z.number().int().min(0).max(100),
  /** The task that stands for this one on the dev split (null: this task's own dev scores). */
  devTask: z.string().min(1).max(200).nullish(),
});
export type TaskMappingInput = z.infer<typeof taskMappingSchema>;
export const taskMappingRowSchema = taskMappingSchema.extend({ devTask: z.string().nullable(), isDefault: z.boolean(), updatedAt: z.date().nullable() });
export type TaskMappingRow = z.infer<typeof taskMappingRowSchema>;
/** A row as a user sends it: the language as `xka` or `xka_Geor` (2-letter codes refused), an empty dev task as none. */
export const taskMappingInputSchema = taskMappingSchema.extend({
  language: languageCodeInput,
  devTask: z
    .string()
    .trim()
    .max(200)
    .nullish()
    .transform((v) => v || null),
});

/** The task whose scores count for a row on a split: its dev task on the dev split when it names one. */
export function taskOnSplit(m: Pick<TaskMappingInput, "task" | "devTask">, split: Split): string {
  return split === "dev" && m.devTask ? m.devTask : m.task;
}

/** Every task whose scores a set of rows reads (their tasks and dev tasks). */
export function scoredTasks(mappings: Pick<TaskMappingInput, "task" | "devTask">[]): string[] {
  return [...new Set(mappings.flatMap((m) => (m.devTask ? [m.task, m.devTask] : [m.task])))];
}

const MGSM_LANGS: Record<string, string> = { bn: "ben", te: "tel", de: "deu", en: "eng", es: "spa", fr: "fra", ja: "jpn", ru: "rus", sw: "swa", th: "tha", zh: "zho" };
const MLIC_KINDS = { tc: "MLiC-TC", mrc: "MLiC-MRC", rs: "MLiC-RS", math: "MLiC-Math" } as const;

/** The built-in catalogue: the tasks of Table 2 for the seven languages (SIB-200 and MLiC-Eval names are custom task names). */
export function defaultMappings(): TaskMappingInput[] {
  const out: TaskMappingInput[] = [];
  const row = (task: string, benchmark: string, language: string, metric: string, filter: string, priority = 0) =>
    out.push({ task, benchmark, language, metric, filter, scale: 100, priority });
  for (const l of PAPER_LANGUAGES.slice(0, 4)) {
    row(`sib200_${l.flores}`, "SIB-200", l.code, "acc", "none");
    row(`belebele_${l.flores}`, "Belebele", l.code, "acc", "none");
  }
  for (const [iso1, lang] of [["te", "tel"], ["bn", "ben"]] as const) {
    row(`mgsm_direct_${iso1}`, "MGSM", lang, "exact_match", "flexible-extract", 0);
    row(`mgsm_native_cot_${iso1}`, "MGSM", lang, "exact_match", "flexible-extract", 1);
  }
  for (const lang of ["bod", "uig", "mvf"])
    for (const [kind, benchmark] of Object.entries(MLIC_KINDS)) row(`mlic_${lang}_${kind}`, benchmark, lang, kind === "math" ? "exact_match" : "acc", kind === "math" ? "flexible-extract" : "none");
  return out;
}

/** A mapping guessed from the task name (for tasks not in the catalogue yet): shown as a suggestion, never counted silently. */
export function inferMapping(task: string): TaskMappingInput | null {
  let m: RegExpExecArray | null;
  const flores = languageOfTaskName(task);
  if (flores && /^belebele_[a-z]{3}_[A-Z][a-z]{3}$/.test(task)) return { task, benchmark: "Belebele", language: flores.code, metric: "acc", filter: "none", scale: 100, priority: 0 };
  if (flores && /^sib_?200_[a-z]{3}_[A-Z][a-z]{3}(?:_(?:dev|test))?$/.test(task)) return { task, benchmark: "SIB-200", language: flores.code, metric: "acc", filter: "none", scale: 100, priority: 0 };
  if ((m = /^mgsm_direct_([a-z]{2})$/.exec(task))) return { task, benchmark: "MGSM", language: MGSM_LANGS[m[1]!] ?? m[1]!, metric: "exact_match", filter: "flexible-extract", scale: 100, priority: 0 };
  if ((m = /^mgsm_(?:native_cot|cot_native)_([a-z]{2})$/.exec(task))) return { task, benchmark: "MGSM", language: MGSM_LANGS[m[1]!] ?? m[1]!, metric: "exact_match", filter: "flexible-extract", scale: 100, priority: 1 };
  if ((m = /^mlic_([a-z]{3})_(tc|mrc|rs|math)$/.exec(task))) {
    const kind = m[2] as keyof typeof MLIC_KINDS;
    return { task, benchmark: MLIC_KINDS[kind], language: m[1]!, metric: kind === "math" ? "exact_match" : "acc", filter: kind === "math" ? "flexible-extract" : "none", scale: 100, priority: 0 };
  }
  return null;
}

// ---------- averages (pure) ----------

export interface ScoreLike {
  modelId: string | null;
  modelName: string;
  task: string;
  split: string;
  metric: string;
  filter: string;
  value: number;
  createdAt: Date;
}

export interface BenchmarkPart {
  benchmark: string;
  task: string | null;
  value: number | null; // in display units (value × scale)
  /** Why the benchmark has no value: no score for its tasks, or not the primary metric/filter. */
  missing: string | null;
}

export interface LanguageAverage {
  language: string;
  /** Mean over all the language's benchmarks; null until every benchmark has a value. */
  average: number | null;
  /** Mean over the benchmarks that have a value (shown as partial). */
  partialAverage: number | null;
  covered: number;
  expected: number;
  parts: BenchmarkPart[];
}

export interface ModelAverages {
  modelKey: string;
  modelId: string | null;
  modelName: string;
  languages: LanguageAverage[];
}

export const modelKeyOf = (s: { modelId: string | null; modelName: string }) => (s.modelId ? `id:${s.modelId}` : `name:${s.modelName}`);

/** Table-3-style averages per model and language, from scores of one split. */
export function computeAverages(scores: ScoreLike[], catalogue: TaskMappingInput[], split: Split): ModelAverages[] {
  // On the dev split a row that names a dev task reads that task's scores.
  const mappings = catalogue.map((m) => ({ ...m, task: taskOnSplit(m, split) }));
  const benchmarksByLang = new Map<string, Map<string, TaskMappingInput[]>>();
  for (const m of mappings) {
    const byBench = benchmarksByLang.get(m.language) ?? new Map<string, TaskMappingInput[]>();
    byBench.set(m.benchmark, [...(byBench.get(m.benchmark) ?? []), m].sort((a, b) => a.priority - b.priority || a.task.localeCompare(b.task)));
    benchmarksByLang.set(m.language, byBench);
  }
  const mappedTasks = new Set(mappings.map((m) => m.task));
  // Latest score per model, task, metric and filter (a re-run replaces an older file's number).
  const latest = new Map<string, ScoreLike>();
  const models = new Map<string, { modelId: string | null; modelName: string }>();
  for (const s of scores) {
    if (s.split !== split || !mappedTasks.has(s.task)) continue;
    const mk = modelKeyOf(s);
    if (!models.has(mk)) models.set(mk, { modelId: s.modelId, modelName: s.modelName });
    const k = `${mk}\u0000${s.task}\u0000${s.metric}\u0000${s.filter}`;
    const prev = latest.get(k);
    if (!prev || prev.createdAt < s.createdAt) latest.set(k, s);
  }
  const out: ModelAverages[] = [];
  for (const [mk, info] of models) {
    const languages: LanguageAverage[] = [];
    for (const [language, byBench] of benchmarksByLang) {
      const parts: BenchmarkPart[] = [];
      for (const [benchmark, tasks] of byBench) {
        let part: BenchmarkPart | null = null;
        let reason: string | null = null;
        for (const t of tasks) {
          const hit = latest.get(`${mk}\u0000${t.task}\u0000${t.metric}\u0000${t.filter}`);
          if (hit) {
            part = { benchmark, task: t.task, value: hit.value * t.scale, missing: null };
            break;
          }
          if (!reason) {
            const others = [...latest.values()].filter((s) => modelKeyOf(s) === mk && s.task === t.task).map((s) => `${s.metric},${s.filter}`);
            if (others.length > 0) reason = `${t.task} has no ${t.metric},${t.filter} (has ${[...new Set(others)].join(", ")})`;
          }
        }
        parts.push(part ?? { benchmark, task: null, value: null, missing: reason ?? `no ${split} score for ${tasks.map((t) => t.task).join(" / ")}` });
      }
      const values = parts.map((p) => p.value).filter((v): v is number => v !== null);
      if (values.length === 0) continue;
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      languages.push({ language, average: values.length === parts.length ? mean : null, partialAverage: mean, covered: values.length, expected: parts.length, parts });
    }
    if (languages.length > 0) out.push({ modelKey: mk, modelId: info.modelId, modelName: info.modelName, languages });
  }
  return out.sort((a, b) => a.modelName.localeCompare(b.modelName));
}

// ---------- the editable table (database) ----------

async function ensureSeeded(): Promise<void> {
  const client = await db();
  if ((await client.taskMapping.count()) > 0) return;
  const defaults = defaultMappings();
  await writeTransaction("seeding the task catalogue", async (tx) => {
    if ((await tx.taskMapping.count()) > 0) return;
    await tx.taskMapping.createMany({ data: defaults.map((d) => ({ ...d, isDefault: true })) });
  });
}

export async function listMappings(): Promise<TaskMappingRow[]> {
  await ensureSeeded();
  const client = await db();
  const rows = await client.taskMapping.findMany({ orderBy: [{ language: "asc" }, { benchmark: "asc" }, { priority: "asc" }, { task: "asc" }] });
  return rows.map((r) => ({ task: r.task, benchmark: r.benchmark, language: r.language, metric: r.metric, filter: r.filter, scale: r.scale, priority: r.priority, devTask: r.devTask, isDefault: r.isDefault, updatedAt: r.updatedAt }));
}

/** Refuses a dev task that is already a catalogue task or another row's dev task (one dev task stands for one task). */
async function assertDevTaskFree(tx: DbTx, task: string, devTask: string | null | undefined, replacing: string[]): Promise<void> {
  if (!devTask) return;
  if (devTask === task) throw new AppError("BAD_INPUT", `the dev task of ${task} is the task itself; leave it empty (the task's own dev scores count) or name the other task`);
  const clash = await tx.taskMapping.findFirst({ where: { OR: [{ task: devTask }, { devTask }], task: { notIn: [task, ...replacing] } }, select: { task: true, devTask: true } });
  if (clash) {
    throw new AppError(
      "CONFLICT",
      clash.task === devTask ? `${devTask} is a catalogue task of its own; remove its row before pairing it as the dev task of ${task}` : `${devTask} is already the dev task of ${clash.task}`,
    );
  }
}

/** Saves one row; `input.language` is a code as the API accepts it (`xka`, `xka_Geor`). */
export async function upsertMapping(input: TaskMappingInput & { previousTask?: string }): Promise<TaskMappingRow> {
  const lang = splitLanguage(input.language);
  const parsed = taskMappingSchema.parse({ ...input, language: lang.code, devTask: input.devTask || null });
  await ensureSeeded();
  const row = await writeTransaction(`saving the task mapping ${parsed.task}`, async (tx) => {
    if (input.previousTask && input.previousTask !== parsed.task) {
      if (await tx.taskMapping.findUnique({ where: { task: parsed.task } })) throw new AppError("CONFLICT", `task ${parsed.task} is already in the catalogue`);
      await tx.taskMapping.deleteMany({ where: { task: input.previousTask } });
    }
    await assertDevTaskFree(tx, parsed.task, parsed.devTask, input.previousTask ? [input.previousTask] : []);
    await recordLanguage(lang, { tx });
    return tx.taskMapping.upsert({ where: { task: parsed.task }, create: { ...parsed, isDefault: false }, update: { ...parsed, isDefault: false } });
  });
  return { ...parsed, devTask: row.devTask, isDefault: row.isDefault, updatedAt: row.updatedAt };
}

export async function deleteMapping(task: string): Promise<void> {
  await ensureSeeded();
  const client = await db();
  const r = await client.taskMapping.deleteMany({ where: { task } });
  if (r.count === 0) throw new AppError("NOT_FOUND", `task ${task} is not in the catalogue`);
}

/** Puts every built-in mapping back as shipped (user-added tasks are kept). */
export async function resetMappings(): Promise<{ restored: number }> {
  const defaults = defaultMappings();
  await writeTransaction("resetting the task catalogue", async (tx) => {
    for (const d of defaults) await tx.taskMapping.upsert({ where: { task: d.task }, create: { ...d, isDefault: true }, update: { ...d, devTask: null, isDefault: true } });
  });
  return { restored: defaults.length };
}

/** Tasks with scores that the catalogue does not map, with a guessed mapping when the name follows a known pattern. */
export async function unmappedTasks(): Promise<{ task: string; scores: number; suggestion: TaskMappingInput | null }[]> {
  await ensureSeeded();
  const client = await db();
  const mapped = new Set(scoredTasks(await client.taskMapping.findMany({ select: { task: true, devTask: true } })));
  const groups = await client.score.groupBy({ by: ["task"], where: { isGroup: false }, _count: { _all: true }, orderBy: { task: "asc" } });
  return groups.filter((g) => !mapped.has(g.task)).map((g) => ({ task: g.task, scores: g._count._all, suggestion: inferMapping(g.task) }));
}

export const languageAverageSchema = z.object({
  language: z.string(),
  average: z.number().nullable(),
  partialAverage: z.number().nullable(),
  covered: z.number(),
  expected: z.number(),
  parts: z.array(z.object({ benchmark: z.string(), task: z.string().nullable(), value: z.number().nullable(), missing: z.string().nullable() })),
});
export const modelAveragesSchema = z.object({ modelKey: z.string(), modelId: z.string().nullable(), modelName: z.string(), modelLabel: z.string().nullable(), languages: z.array(languageAverageSchema) });
export type ModelAveragesRow = z.infer<typeof modelAveragesSchema>;

export const averagesInputSchema = z.object({ split: z.enum(["dev", "test"]), modelId: z.string().min(1).optional(), language: z.string().min(2).max(20).optional() });

/** Per model and language, the paper's average over the language's benchmarks, from the database. */
export async function languageAverages(input: { split: Split; modelId?: string; language?: string }): Promise<ModelAveragesRow[]> {
  const mappings = await listMappings();
  const client = await db();
  const scores = await client.score.findMany({
    where: { split: input.split, task: { in: mappings.map((m) => taskOnSplit(m, input.split)) }, ...(input.modelId ? { modelId: input.modelId } : {}) },
    select: { modelId: true, modelName: true, task: true, split: true, metric: true, filter: true, value: true, createdAt: true },
  });
  const rows = computeAverages(scores, mappings, input.split);
  const ids = rows.map((r) => r.modelId).filter((x): x is string => !!x);
  const names = new Map((await client.model.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } })).map((m) => [m.id, m.name]));
  return rows
    .map((r) => ({ ...r, modelLabel: r.modelId ? (names.get(r.modelId) ?? null) : null, languages: input.language ? r.languages.filter((l) => l.language === languageKey(input.language!)) : r.languages }))
    .filter((r) => r.languages.length > 0);
}
