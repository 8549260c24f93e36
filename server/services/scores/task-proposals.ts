// A new language's catalogue rows, proposed from the results already imported:
// every task whose name carries the language's code (`belebele_xka_Geor`,
// `xka_belebele_dev`) and that the catalogue does not map yet, with the splits
// and metrics seen, a proposed primary metric and benchmark, and — for a task
// seen only on the dev split — the test task it stands for. The user confirms
// the chosen rows in one step (addProposedTasks).
import { z } from "zod";
import { db, writeTransaction } from "../../db/client";
import { AppError } from "../../errors";
import { formatLanguageCode, languageLabel, type LanguageCode } from "../languages/codes";
import { languageCodeInput, languageNameInput } from "../languages/schemas";
import { recordLanguage, splitLanguage } from "../languages/store";
import { listMappings, scoredTasks } from "./catalogue";

const METRIC_PREFERENCE = ["acc", "acc_norm", "exact_match", "f1"];
const FILTER_PREFERENCE = ["none", "flexible-extract"];
const SPLIT_WORDS = new Set(["dev", "devtest", "test", "val", "valid", "validation"]);

export const taskProposalSchema = z.object({
  task: z.string(),
  benchmark: z.string(),
  splits: z.array(z.enum(["dev", "test"])),
  metrics: z.array(z.object({ metric: z.string(), filter: z.string(), scores: z.number() })),
  metric: z.string(),
  filter: z.string(),
  /** 100 when every value is a fraction (shown in %), else 1. */
  scale: z.number(),
  priority: z.number(),
  /** A task seen only on the dev split with the same benchmark: its scores stand for this task's on dev. */
  devTask: z.string().nullable(),
  scores: z.number(),
});
export type TaskProposal = z.infer<typeof taskProposalSchema>;

export const taskProposalsSchema = z.object({
  language: z.object({ code: z.string(), script: z.string().nullable(), flores: z.string(), name: z.string().nullable(), label: z.string() }),
  proposals: z.array(taskProposalSchema),
  /** Catalogue rows the language already has. */
  catalogued: z.number(),
});
export type TaskProposals = z.infer<typeof taskProposalsSchema>;

export const addProposedTasksInput = z.object({
  language: languageCodeInput,
  languageName: languageNameInput.nullish(),
  tasks: z
    .array(
      z.object({
        task: z.string().trim().min(1).max(200),
        benchmark: z.string().trim().min(1).max(100),
        metric: z.string().trim().min(1).max(100),
        filter: z.string().trim().min(1).max(100),
        scale: z.number().positive().max(1000),
        priority: z.number().int().min(0).max(100),
        devTask: z
          .string()
          .trim()
          .max(200)
          .nullish()
          .transform((v) => v || null),
      }),
    )
    .min(1, "choose at least one task")
    .max(500),
});
export type AddProposedTasksInput = z.input<typeof addProposedTasksInput>;

/** added: task names catalogued (rows and their dev tasks); devTasks: how many of them are dev tasks. */
export const addProposedTasksResultSchema = z.object({ added: z.number(), devTasks: z.number(), language: z.string(), message: z.string() });

/** Benchmark name from a task name without its language and split words: belebele → Belebele, sib200 → SIB-200, mgsm → MGSM, else the prefix. */
export function benchmarkOf(task: string, l: LanguageCode): string {
  const words = task.split(/[_.\-]+/).filter((w) => w && w.toLowerCase() !== l.code && w !== l.script && !/^[A-Z][a-z]{3}$/.test(w) && !SPLIT_WORDS.has(w.toLowerCase()));
  const rest = words.join("_").toLowerCase();
  if (rest.startsWith("belebele")) return "Belebele";
  if (/^sib_?200/.test(rest)) return "SIB-200";
  if (rest.startsWith("mgsm")) return "MGSM";
  return words[0] ?? task;
}

/** acc > acc_norm > exact_match > f1 > the first; filter none > flexible-extract > the first. */
export function primaryMetric(metrics: { metric: string; filter: string }[]): { metric: string; filter: string } {
  const rank = (list: string[], v: string) => (list.includes(v) ? list.indexOf(v) : list.length);
  const sorted = [...metrics].sort((a, b) => rank(METRIC_PREFERENCE, a.metric) - rank(METRIC_PREFERENCE, b.metric) || rank(FILTER_PREFERENCE, a.filter) - rank(FILTER_PREFERENCE, b.filter) || a.metric.localeCompare(b.metric) || a.filter.localeCompare(b.filter));
  return sorted[0] ?? { metric: "acc", filter: "none" };
}

/** True when the task name carries the language as a word: `xka`, or `xka_Geor`. */
export function taskNamesLanguage(task: string, code: string): boolean {
  return new RegExp(`(?:^|[^a-z0-9])${code}(?:$|[^a-z0-9])`).test(task.toLowerCase());
}

export interface ImportedTaskStats {
  task: string;
  split: string;
  metric: string;
  filter: string;
  count: number;
  maxAbs: number;
}

/** The proposals for one language from per (task, split, metric, filter) statistics (pure). */
export function proposeFrom(stats: ImportedTaskStats[], l: LanguageCode, catalogued: Set<string>): TaskProposal[] {
  const byTask = new Map<string, ImportedTaskStats[]>();
  for (const s of stats) {
    if (catalogued.has(s.task) || !taskNamesLanguage(s.task, l.code)) continue;
    byTask.set(s.task, [...(byTask.get(s.task) ?? []), s]);
  }
  const all: TaskProposal[] = [...byTask].map(([task, rows]) => {
    const metrics = new Map<string, { metric: string; filter: string; scores: number }>();
    for (const r of rows) {
      const k = `${r.metric}\u0000${r.filter}`;
      const m = metrics.get(k) ?? { metric: r.metric, filter: r.filter, scores: 0 };
      m.scores += r.count;
      metrics.set(k, m);
    }
    const list = [...metrics.values()].sort((a, b) => a.metric.localeCompare(b.metric) || a.filter.localeCompare(b.filter));
    const primary = primaryMetric(list);
    const primaryRows = rows.filter((r) => r.metric === primary.metric && r.filter === primary.filter);
    return {
      task,
      benchmark: benchmarkOf(task, l),
      splits: (["dev", "test"] as const).filter((sp) => rows.some((r) => r.split === sp)),
      metrics: list,
      ...primary,
      scale: primaryRows.every((r) => r.maxAbs <= 1) ? 100 : 1,
      priority: 0,
      devTask: null,
      scores: rows.reduce((a, r) => a + r.count, 0),
    };
  });
  // A dev-only task pairs with the one test task of its benchmark; otherwise it stays a row of its own.
  const devOnly = all.filter((p) => p.splits.length === 1 && p.splits[0] === "dev");
  const paired = new Set<string>();
  for (const d of devOnly) {
    const targets = all.filter((p) => p !== d && p.splits.includes("test") && p.benchmark === d.benchmark);
    if (targets.length === 1 && targets[0]!.devTask === null) {
      targets[0]!.devTask = d.task;
      paired.add(d.task);
    }
  }
  const out = all.filter((p) => !paired.has(p.task)).sort((a, b) => a.benchmark.localeCompare(b.benchmark) || a.task.localeCompare(b.task));
  // Several tasks for one benchmark: the first counts, the others stand in when it has no score.
  const seen = new Map<string, number>();
  for (const p of out) {
    p.priority = seen.get(p.benchmark) ?? 0;
    seen.set(p.benchmark, p.priority + 1);
  }
  return out;
}

async function languageOf(input: string): Promise<LanguageCode & { name: string | null }> {
  const l = splitLanguage(input);
  const row = await (await db()).language.findUnique({ where: { code: l.code } });
  return { code: l.code, script: l.script ?? row?.script ?? null, name: row?.name ?? null };
}

/** The imported tasks that carry the language's code and are not catalogued yet, as proposed catalogue rows. */
export async function proposeTasks(language: string): Promise<TaskProposals> {
  const l = await languageOf(language);
  const mappings = await listMappings();
  const client = await db();
  const groups = await client.score.groupBy({
    by: ["task", "split", "metric", "filter"],
    where: { isGroup: false, task: { contains: l.code } },
    _count: { _all: true },
    _max: { value: true },
    _min: { value: true },
  });
  const stats = groups.map((g) => ({
    task: g.task,
    split: g.split,
    metric: g.metric,
    filter: g.filter,
    count: g._count._all,
    maxAbs: Math.max(Math.abs(g._max.value ?? 0), Math.abs(g._min.value ?? 0)),
  }));
  return {
    language: { code: l.code, script: l.script, flores: formatLanguageCode(l), name: l.name, label: languageLabel(l) },
    proposals: proposeFrom(stats, l, new Set(scoredTasks(mappings))),
    catalogued: mappings.filter((m) => m.language === l.code).length,
  };
}

/** Adds the confirmed rows (and the language's script and name) in one transaction: all or nothing. */
export async function addProposedTasks(input: z.output<typeof addProposedTasksInput>): Promise<z.infer<typeof addProposedTasksResultSchema>> {
  const l = splitLanguage(input.language);
  const names = input.tasks.flatMap((t) => (t.devTask ? [t.task, t.devTask] : [t.task]));
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length > 0) throw new AppError("BAD_INPUT", `${[...new Set(twice)].join(", ")} chosen twice (as a task or a dev task); each task can fill one place`);
  await listMappings(); // seeds the built-in catalogue first, so it is not skipped later
  await writeTransaction(`adding ${input.tasks.length} tasks for ${formatLanguageCode(l)}`, async (tx) => {
    const taken = await tx.taskMapping.findMany({ where: { OR: [{ task: { in: names } }, { devTask: { in: names } }] }, select: { task: true, devTask: true } });
    if (taken.length > 0) {
      const which = taken.map((t) => (names.includes(t.task) ? t.task : `${t.devTask} (dev task of ${t.task})`));
      throw new AppError("CONFLICT", `already in the catalogue: ${which.join(", ")}; refresh the proposals`);
    }
    await recordLanguage(l, { name: input.languageName, tx });
    await tx.taskMapping.createMany({ data: input.tasks.map((t) => ({ ...t, language: l.code, isDefault: false })) });
  });
  const row = await (await db()).language.findUnique({ where: { code: l.code } });
  const label = languageLabel({ code: l.code, script: row?.script ?? l.script, name: row?.name });
  const devTasks = input.tasks.filter((t) => t.devTask).length;
  const n = input.tasks.length + devTasks;
  return {
    added: n,
    devTasks,
    language: l.code,
    message: `Added ${n} task${n === 1 ? "" : "s"} for ${label}${devTasks ? ` (${devTasks} of them as dev tasks of the others)` : ""}`,
  };
}
