// The Language table: a language's script and name, stored once. Rows carry
// only the ISO 639-3 code; this table says `xka` is written in Geor and called
// Mingrelian. Seeded with the paper's seven; a row is added the first time an
// experiment, a model or a catalogue row uses a code. Codes in older rows
// without a Language row (created before the table existed) are still listed.
import { db, writeTransaction, type DbTx } from "../../db/client";
import { AppError } from "../../errors";
import { formatLanguageCode, languageLabel, languageName, PAPER_LANGUAGES, parseLanguageCode, sortLanguages, type LanguageCode } from "./codes";
import type { LanguageRow } from "./schemas";

/** A code that passed the API boundary (`xka_Geor`), split; direct callers (CLI, tests) get the same message. */
export function splitLanguage(input: string): LanguageCode {
  const r = parseLanguageCode(input);
  if (!r.ok) throw new AppError("BAD_INPUT", r.error);
  return r.value;
}

/**
 * Makes sure the language has a row. A script is filled in when the row has none (the first
 * script given stays: `uig` may be written in Arab or Latn, the catalogue's is kept); a name
 * given replaces the stored one.
 */
export async function recordLanguage(l: LanguageCode, opts: { name?: string | null; tx?: DbTx } = {}): Promise<void> {
  const write = async (tx: DbTx) => {
    const row = await tx.language.findUnique({ where: { code: l.code } });
    if (!row) {
      await tx.language.create({ data: { code: l.code, script: l.script, name: opts.name ?? null } });
      return;
    }
    const data = { ...(l.script && !row.script ? { script: l.script } : {}), ...(opts.name ? { name: opts.name } : {}) };
    if (Object.keys(data).length > 0) await tx.language.update({ where: { code: l.code }, data });
  };
  if (opts.tx) await write(opts.tx);
  else await writeTransaction(`recording the language ${formatLanguageCode(l)}`, write);
}

async function ensurePaperLanguages(): Promise<void> {
  const client = await db();
  const have = await client.language.count({ where: { code: { in: PAPER_LANGUAGES.map((l) => l.code) } } });
  if (have === PAPER_LANGUAGES.length) return;
  await writeTransaction("seeding the paper's languages", async (tx) => {
    for (const l of PAPER_LANGUAGES) {
      const [code, script] = l.flores.split("_") as [string, string];
      await recordLanguage({ code, script }, { tx });
    }
  });
}

/** Every known language: the table's rows and the codes rows carry, paper order first. */
export async function listLanguages(): Promise<LanguageRow[]> {
  await ensurePaperLanguages();
  const client = await db();
  const [rows, tasks, experiments, models] = await Promise.all([
    client.language.findMany(),
    client.taskMapping.groupBy({ by: ["language"], _count: { _all: true } }),
    client.experiment.findMany({ select: { language: true }, distinct: ["language"] }),
    client.model.findMany({ where: { language: { not: null } }, select: { language: true }, distinct: ["language"] }),
  ]);
  const byCode = new Map(rows.map((r) => [r.code, r]));
  const taskCount = new Map(tasks.map((t) => [t.language, t._count._all]));
  const codes = sortLanguages([...byCode.keys(), ...taskCount.keys(), ...experiments.map((e) => e.language), ...models.map((m) => m.language!)]);
  return codes.map((code) => {
    const row = byCode.get(code);
    const l = { code, script: row?.script ?? null, name: row?.name ?? null };
    return { ...l, flores: formatLanguageCode(l), name: l.name || languageName(code), label: languageLabel(l), catalogueTasks: taskCount.get(code) ?? 0 };
  });
}

/** One language as listed (null when no row and no catalogue task names it). */
export async function getLanguage(code: string): Promise<LanguageRow | null> {
  return (await listLanguages()).find((l) => l.code === code) ?? null;
}
