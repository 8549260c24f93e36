// The paper's published numbers (Tables 3–13 of Tao et al., 2024, shipped as
// JSON under server/data/paper/), shaped for the "Paper results" page and as
// reference series for an experiment's charts — plus a consistency check that
// recomputes every average from the per-task tables and compares the tables
// with each other, so the page can say where the paper disagrees with itself.
import { z } from "zod";
import languagesJson from "../../data/paper/languages.json";
import table3Json from "../../data/paper/table3.json";
import table4Json from "../../data/paper/table4.json";
import table5Json from "../../data/paper/table5.json";
import table6Json from "../../data/paper/table6.json";
import table7Json from "../../data/paper/table7.json";
import table8Json from "../../data/paper/table8.json";
import table9Json from "../../data/paper/table9.json";
import table10Json from "../../data/paper/table10.json";
import table11Json from "../../data/paper/table11.json";
import table12Json from "../../data/paper/table12.json";
import table13Json from "../../data/paper/table13.json";

export const PAPER_METHODS = ["BASE", "SFT", "CT", "CTSFT-mt", "CTSFT-flan", "WAVG", "TIES", "TIES-SV"] as const;
export type PaperMethod = (typeof PAPER_METHODS)[number];
const methodSchema = z.enum(PAPER_METHODS);

const paperModelSchema = z.object({
  method: methodSchema,
  language: z.string().nullable(),
  languages: z.array(z.string()).optional(),
  sftData: z.enum(["flan", "mt"]).nullable(),
});
export type PaperModel = z.infer<typeof paperModelSchema>;

const columnSchema = z.object({ key: z.string(), label: z.string(), benchmark: z.string().optional(), language: z.string().optional() });

const languageTableSchema = z.object({
  number: z.number().int(),
  caption: z.string(),
  kind: z.literal("language"),
  language: z.string(),
  columns: z.array(columnSchema),
  hasAverage: z.literal(true),
  rows: z.array(z.object({ label: z.string(), model: paperModelSchema, values: z.record(z.string(), z.number()), average: z.number() })),
  printed: z.array(z.object({ row: z.string(), column: z.string(), text: z.string() })).optional(),
});
export type LanguageTable = z.infer<typeof languageTableSchema>;

const table3Schema = z.object({
  number: z.literal(3),
  caption: z.string(),
  kind: z.literal("overview"),
  columns: z.array(columnSchema.extend({ language: z.string() })),
  hasAverage: z.literal(true),
  rows: z.array(
    z.object({
      label: z.string(),
      method: methodSchema,
      sftData: z.enum(["flan", "mt"]).nullable(),
      enhancedTask: z.boolean(),
      learnedLanguage: z.boolean(),
      values: z.record(z.string(), z.number()),
      average: z.number(),
    }),
  ),
});
export type Table3 = z.infer<typeof table3Schema>;

const table5Schema = z.object({
  number: z.literal(5),
  caption: z.string(),
  kind: z.literal("multilingual"),
  columns: z.array(columnSchema.extend({ language: z.string() })),
  hasAverage: z.literal(false),
  rows: z.array(z.object({ label: z.string(), ability: z.string(), model: paperModelSchema, values: z.record(z.string(), z.number()) })),
});
export type Table5 = z.infer<typeof table5Schema>;

const table6Schema = z.object({
  number: z.literal(6),
  caption: z.string(),
  rows: z.array(z.object({ benchmark: z.string(), label: z.string().optional(), dev: z.number().int(), test: z.number().int() })),
});

const languagesSchema = z.object({
  source: z.string(),
  languages: z.array(
    z.object({ code: z.string(), name: z.string(), family: z.string(), script: z.string(), population: z.string(), corpus: z.string(), tokens: z.string(), tasks: z.array(z.string()) }),
  ),
});

export const paperDataSchema = z.object({
  languages: languagesSchema.shape.languages,
  table3: table3Schema,
  table4: languageTableSchema,
  table5: table5Schema,
  table6: table6Schema,
  /** Tables 7–13, one per language. */
  languageTables: z.array(languageTableSchema),
});
export type PaperData = z.infer<typeof paperDataSchema>;

let cached: PaperData | undefined;

/** The shipped tables, validated once. */
export function paperData(): PaperData {
  cached ??= {
    languages: languagesSchema.parse(languagesJson).languages,
    table3: table3Schema.parse(table3Json),
    table4: languageTableSchema.parse(table4Json),
    table5: table5Schema.parse(table5Json),
    table6: table6Schema.parse(table6Json),
    languageTables: [table7Json, table8Json, table9Json, table10Json, table11Json, table12Json, table13Json].map((t) => languageTableSchema.parse(t)),
  };
  return cached;
}

/** "TIES-ben-flan", "SFT-flan", "CTSFT-ory-mt", "TIES-mvf&uig-flan" — the paper's naming. */
export function canonicalModelName(m: PaperModel): string {
  if (m.method === "BASE") return "BASE";
  if (m.method === "SFT") return "SFT-flan";
  const lang = m.languages?.join("&") ?? m.language ?? "X";
  if (m.method === "CT") return `CT-${lang}`;
  if (m.method === "CTSFT-mt") return `CTSFT-${lang}-mt`;
  if (m.method === "CTSFT-flan") return `CTSFT-${lang}-flan`;
  return `${m.method}-${lang}-flan`;
}

// ---------- consistency ----------

export const TOLERANCE = 0.01;
const round2 = (x: number) => Math.round(x * 100 + Number.EPSILON * 100) / 100;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (x: number) => x.toFixed(2);
const fmt4 = (x: number) => (Math.abs(x - round2(x)) < 1e-9 ? x.toFixed(2) : x.toFixed(4).replace(/0+$/, ""));
const agree = (a: number, b: number) => Math.abs(a - b) <= TOLERANCE + 1e-9;

export const cellRefSchema = z.object({ table: z.number(), row: z.string(), column: z.string() });
export type CellRef = z.infer<typeof cellRefSchema>;

export const discrepancySchema = z.object({
  id: z.string(),
  /** average: a published average ≠ the mean of its row; cross-table: two tables print different numbers for the same thing. */
  kind: z.enum(["average", "cross-table"]),
  tables: z.array(z.number()),
  model: z.string(),
  language: z.string().nullable(),
  column: z.string().nullable(),
  published: z.number(),
  publishedWhere: z.string(),
  other: z.number(),
  otherWhere: z.string(),
  difference: z.number(),
  message: z.string(),
  /** What the other numbers suggest about which one is the typo (computed, not asserted). */
  hint: z.string().nullable(),
  /** The table cells involved (column "average" = the Average column). */
  cells: z.array(cellRefSchema),
});
export type Discrepancy = z.infer<typeof discrepancySchema>;

export const suspiciousValueSchema = z.object({
  id: z.string(),
  table: z.number(),
  model: z.string(),
  language: z.string(),
  benchmark: z.string(),
  value: z.number(),
  testSize: z.number(),
  nearest: z.array(z.number()),
  message: z.string(),
  cells: z.array(cellRefSchema),
});
export type SuspiciousValue = z.infer<typeof suspiciousValueSchema>;

export const claimCheckSchema = z.object({ id: z.string(), section: z.string(), claim: z.string(), computed: z.string(), ok: z.boolean() });
export type ClaimCheck = z.infer<typeof claimCheckSchema>;

export const consistencyReportSchema = z.object({
  tolerance: z.number(),
  checks: z.number(),
  discrepancies: z.array(discrepancySchema),
  /** Task values that no whole number of correct answers out of Table 6's test size can give: possible typos, not proven. */
  suspicious: z.array(suspiciousValueSchema),
  claims: z.array(claimCheckSchema),
  /** Same model under different names in different tables. */
  labelNotes: z.array(z.string()),
  /** Cells no other table repeats (nothing to compare with). */
  uncheckable: z.array(z.string()),
  /** Recomputed averages of Tables 7–13 (and 4), for display next to the published ones. */
  recomputed: z.array(z.object({ table: z.number(), model: z.string(), published: z.number(), recomputed: z.number(), ok: z.boolean() })),
});
export type ConsistencyReport = z.infer<typeof consistencyReportSchema>;

function sameModel(a: PaperModel, b: PaperModel): boolean {
  if (a.method !== b.method) return false;
  if (a.method === "BASE" || a.method === "SFT") return true;
  return a.language === b.language && JSON.stringify(a.languages ?? null) === JSON.stringify(b.languages ?? null);
}

/** Reachable percentages k/N·100 (rounded to 2 decimals) nearest to `value`. */
export function reachableNear(value: number, n: number): { reachable: boolean; nearest: number[] } {
  const k = Math.round((value * n) / 100);
  const candidates = [k - 1, k, k + 1].filter((x) => x >= 0 && x <= n).map((x) => round2((100 * x) / n));
  const reachable = candidates.some((c) => Math.abs(c - value) < 1e-9);
  const sorted = [...new Set(candidates)].sort((a, b) => Math.abs(a - value) - Math.abs(b - value));
  return { reachable, nearest: sorted.slice(0, 2).sort((a, b) => a - b) };
}

export function checkConsistency(data: PaperData = paperData()): ConsistencyReport {
  const discrepancies: Discrepancy[] = [];
  const suspicious: SuspiciousValue[] = [];
  const recomputed: ConsistencyReport["recomputed"] = [];
  const labelNotes: string[] = [];
  const uncheckable: string[] = [];
  let checks = 0;
  const testSize = new Map(data.table6.rows.map((r) => [r.benchmark, r.test]));
  const langName = (code: string) => data.languages.find((l) => l.code === code)?.name ?? code;
  const byLanguage = new Map(data.languageTables.map((t) => [t.language, t]));

  // Task values that cannot come from a whole number of correct answers (Table 6 test sizes).
  const suspiciousIn = (t: LanguageTable) => {
    for (const row of t.rows)
      for (const col of t.columns) {
        const v = row.values[col.key];
        const n = col.benchmark ? testSize.get(col.benchmark) : undefined;
        if (v === undefined || n === undefined) continue;
        checks++;
        const r = reachableNear(v, n);
        if (!r.reachable)
          suspicious.push({
            id: `t${t.number}-${row.label}-${col.key}`,
            table: t.number,
            model: row.label,
            language: t.language,
            benchmark: col.label,
            value: v,
            testSize: n,
            nearest: r.nearest,
            message: `Table ${t.number}, ${row.label}, ${col.label}: ${fmt(v)} is not k/${n} for any whole k (nearest: ${r.nearest.map(fmt).join(" or ")})`,
            cells: [{ table: t.number, row: row.label, column: col.key }],
          });
      }
  };

  // 1. Averages of the per-language tables (7–13) and of Table 4.
  const recomputedAvg = new Map<string, number>();
  for (const t of [...data.languageTables, data.table4]) {
    suspiciousIn(t);
    for (const row of t.rows) {
      const vals = t.columns.map((c) => row.values[c.key]).filter((v): v is number => v !== undefined);
      const avg = mean(vals);
      checks++;
      const ok = agree(avg, row.average);
      recomputed.push({ table: t.number, model: row.label, published: row.average, recomputed: avg, ok });
      if (t.number !== 4) recomputedAvg.set(`${t.language}:${canonicalModelName(row.model)}`, avg);
      if (!ok) {
        // Would one task value, moved to a nearby reachable number, explain the printed average?
        let hint: string | null = null;
        for (const c of t.columns) {
          const v = row.values[c.key];
          const n = c.benchmark ? testSize.get(c.benchmark) : undefined;
          if (v === undefined || n === undefined || reachableNear(v, n).reachable) continue;
          for (const alt of reachableNear(v, n).nearest.concat([round2(v + 0.1), round2(v - 0.1)])) {
            const alt2 = mean(t.columns.map((cc) => (cc.key === c.key ? alt : (row.values[cc.key] ?? 0))));
            if (agree(alt2, row.average) && reachableNear(alt, n).reachable) {
              hint = `${c.label} ${fmt(v)} is not reachable with ${n} test items; ${fmt(alt)} (${Math.round((alt * n) / 100)}/${n}) would give an average of ${fmt4(alt2)} ≈ ${fmt(row.average)}, so the task value is the likely typo.`;
              break;
            }
          }
          if (hint) break;
        }
        if (!hint && t.number !== 4) {
          const t3row = data.table3.rows.find((r) => r.method === row.model.method);
          const t3v = t3row?.values[t.language];
          if (t3v !== undefined && !agree(t3v, row.average) && agree(t3v, avg))
            hint = `Table 3 prints ${fmt(t3v)} for this model, which agrees with the recomputed average: the printed ${fmt(row.average)} is the likely typo.`;
        }
        discrepancies.push({
          id: `avg-t${t.number}-${row.label}`,
          kind: "average",
          tables: [t.number],
          model: row.label,
          language: t.language,
          column: "Average",
          published: row.average,
          publishedWhere: `Table ${t.number} Average`,
          other: round2(avg),
          otherWhere: `mean of Table ${t.number}'s ${vals.map(fmt).join(", ")} = ${fmt4(avg)}`,
          difference: round2(row.average - avg),
          message: `Table ${t.number} prints ${fmt(row.average)} as the average of ${row.label}, but its task scores (${vals.map(fmt).join(", ")}) average ${fmt4(avg)}.`,
          hint,
          cells: [{ table: t.number, row: row.label, column: "average" }],
        });
      }
    }
  }

  // Naming: the SFT-flan row is labelled after the language in some tables.
  for (const t of data.languageTables)
    for (const row of t.rows)
      if (row.model.method === "SFT" && row.label !== "SFT-flan")
        labelNotes.push(`Table ${t.number} (${langName(t.language)}) labels the SFT-flan row "${row.label}"; its average matches Table 3's SFT-flan column, so it is the same model.`);

  // 2. Table 3 against Tables 7–13.
  const t3 = data.table3;
  for (const row of t3.rows) {
    for (const col of t3.columns) {
      const v = row.values[col.key];
      if (v === undefined) continue;
      const lt = byLanguage.get(col.language);
      const src = lt?.rows.find((r) => r.model.method === row.method && (row.method === "BASE" || row.method === "SFT" || r.model.language === col.language));
      if (!lt || !src) {
        uncheckable.push(`Table 3 ${row.label} ${col.label}: no per-task table row to compare with`);
        continue;
      }
      checks++;
      if (!agree(v, src.average)) {
        const recomputedHere = recomputedAvg.get(`${col.language}:${canonicalModelName(src.model)}`);
        const rowAvgWithOther = mean(t3.columns.map((c) => (c.key === col.key ? src.average : (row.values[c.key] ?? 0))));
        const parts: string[] = [];
        if (recomputedHere !== undefined) {
          if (agree(recomputedHere, v)) parts.push(`Table ${lt.number}'s own task scores average ${fmt4(recomputedHere)}, which agrees with Table 3 (${fmt(v)}): Table ${lt.number}'s printed average (${fmt(src.average)}) is the likely typo.`);
          else if (agree(recomputedHere, src.average)) parts.push(`Table ${lt.number}'s task scores average ${fmt4(recomputedHere)}, which agrees with Table ${lt.number}: Table 3's ${fmt(v)} is the likely typo.`);
        }
        if (agree(mean(t3.columns.map((c) => row.values[c.key] ?? 0)), row.average) && !agree(rowAvgWithOther, row.average))
          parts.push(`Table 3's Average for ${row.label} (${fmt(row.average)}) is consistent with ${fmt(v)}; with ${fmt(src.average)} it would be ${fmt4(rowAvgWithOther)}.`);
        discrepancies.push({
          id: `t3-${row.label}-${col.key}`,
          kind: "cross-table",
          tables: [3, lt.number],
          model: canonicalModelName({ method: row.method, language: col.language, sftData: row.sftData }),
          language: col.language,
          column: col.label,
          published: v,
          publishedWhere: `Table 3 (${row.label}, ${col.label})`,
          other: src.average,
          otherWhere: `Table ${lt.number} (${src.label}, Average)`,
          difference: round2(v - src.average),
          message: `Table 3 gives ${canonicalModelName({ method: row.method, language: col.language, sftData: row.sftData })} an average of ${fmt(v)} on ${col.label}; Table ${lt.number} prints ${fmt(src.average)}.`,
          hint: parts.length ? parts.join(" ") : null,
          cells: [
            { table: 3, row: row.label, column: col.key },
            { table: lt.number, row: src.label, column: "average" },
          ],
        });
      }
    }
    // Table 3's Average column: mean over the seven languages.
    const cells = t3.columns.map((c) => row.values[c.key]).filter((v): v is number => v !== undefined);
    const avg = mean(cells);
    checks++;
    if (!agree(avg, row.average))
      discrepancies.push({
        id: `t3-avg-${row.label}`,
        kind: "average",
        tables: [3],
        model: row.label,
        language: null,
        column: "Average",
        published: row.average,
        publishedWhere: `Table 3 (${row.label}, Average)`,
        other: round2(avg),
        otherWhere: `mean of Table 3's ${cells.length} language columns = ${fmt4(avg)}`,
        difference: round2(row.average - avg),
        message: `Table 3 prints ${fmt(row.average)} as ${row.label}'s average over the languages; its language columns average ${fmt4(avg)}.`,
        hint: null,
        cells: [{ table: 3, row: row.label, column: "average" }],
      });
  }

  // 3. Table 4 (TIES row) against Table 10 (TIES-ben-flan).
  const t10 = byLanguage.get(data.table4.language);
  for (const row of data.table4.rows) {
    const src = t10?.rows.find((r) => sameModel(r.model, row.model));
    if (!t10 || !src) {
      uncheckable.push(`Table 4 ${row.label}: not in Table ${t10?.number ?? "10"}`);
      continue;
    }
    for (const key of [...data.table4.columns.map((c) => c.key), "average"]) {
      const a = key === "average" ? row.average : row.values[key];
      const b = key === "average" ? src.average : src.values[key];
      if (a === undefined || b === undefined) continue;
      checks++;
      if (!agree(a, b)) {
        const label = data.table4.columns.find((c) => c.key === key)?.label ?? "Average";
        discrepancies.push({
          id: `t4-${row.label}-${key}`,
          kind: "cross-table",
          tables: [4, t10.number],
          model: canonicalModelName(row.model),
          language: data.table4.language,
          column: label,
          published: a,
          publishedWhere: `Table 4 (${row.label}, ${label})`,
          other: b,
          otherWhere: `Table ${t10.number} (${src.label}, ${label})`,
          difference: round2(a - b),
          message: `Table 4 gives ${row.label} ${fmt(a)} on ${label}; Table ${t10.number} prints ${fmt(b)} for ${src.label}.`,
          hint: null,
          cells: [
            { table: 4, row: row.label, column: key },
            { table: t10.number, row: src.label, column: key },
          ],
        });
      }
    }
  }

  // 4. Table 5 against Tables 12–13 (and Table 3).
  for (const row of data.table5.rows) {
    for (const col of data.table5.columns) {
      const v = row.values[col.key];
      if (v === undefined) continue;
      const lt = byLanguage.get(col.language);
      const inLanguage = row.model.method === "SFT" || row.model.method === "BASE" || row.model.language === col.language;
      const src = inLanguage && !row.model.languages ? lt?.rows.find((r) => sameModel(r.model, row.model)) : undefined;
      if (!lt || !src) {
        uncheckable.push(`Table 5 ${row.label} on ${col.label}: ${row.model.languages ? "the multilingual merge appears only here" : "a cross-lingual score that appears only here"}`);
        continue;
      }
      checks++;
      if (!agree(v, src.average)) {
        const rec = recomputedAvg.get(`${col.language}:${canonicalModelName(src.model)}`);
        discrepancies.push({
          id: `t5-${row.label}-${col.key}`,
          kind: "cross-table",
          tables: [5, lt.number],
          model: row.label,
          language: col.language,
          column: col.label,
          published: v,
          publishedWhere: `Table 5 (${row.label}, ${col.label})`,
          other: src.average,
          otherWhere: `Table ${lt.number} (${src.label}, Average)`,
          difference: round2(v - src.average),
          message: `Table 5 gives ${row.label} ${fmt(v)} on the ${langName(col.language)} tasks; Table ${lt.number} prints ${fmt(src.average)}.`,
          hint: rec !== undefined ? `Table ${lt.number}'s task scores average ${fmt4(rec)}.` : null,
          cells: [
            { table: 5, row: row.label, column: col.key },
            { table: lt.number, row: src.label, column: "average" },
          ],
        });
      }
    }
  }

  const claims = checkClaims(data);
  checks += claims.length;
  return { tolerance: TOLERANCE, checks, discrepancies, suspicious, claims, labelNotes, uncheckable, recomputed };
}

/** Numbers the paper's text states, recomputed from its tables. */
export function checkClaims(data: PaperData = paperData()): ClaimCheck[] {
  const t3 = data.table3;
  const row = (m: PaperMethod) => t3.rows.find((r) => r.method === m);
  const out: ClaimCheck[] = [];
  const ties = row("TIES");
  const flan = row("CTSFT-flan");
  const mt = row("CTSFT-mt");
  const wavg = row("WAVG");
  const langs = t3.columns;
  if (ties && flan) {
    out.push({ id: "ties-average", section: "5.1", claim: "TIES-X-flan achieves an average score of 46.80% across languages", computed: `Table 3 Average: ${fmt(ties.average)}`, ok: agree(ties.average, 46.8) });
    const gap = ties.average - flan.average;
    out.push({ id: "ties-gap", section: "5.1", claim: "surpassing CTSFT-X-flan by +4.69%", computed: `${fmt(ties.average)} − ${fmt(flan.average)} = ${fmt(gap)}`, ok: agree(gap, 4.69) });
    const exceptions = langs.filter((c) => Math.max(ties.values[c.key] ?? 0, wavg?.values[c.key] ?? 0) <= Math.max(flan.values[c.key] ?? 0, mt?.values[c.key] ?? 0)).map((c) => c.label);
    out.push({
      id: "merging-wins",
      section: "5.1",
      claim: "For all the studied languages except Bengali, the models constructed by merging outperform those built by CT-then-SFT",
      computed: exceptions.length ? `merging does not win in: ${exceptions.join(", ")}` : "merging wins in every language",
      ok: exceptions.length === 1 && exceptions[0] === "Bengali",
    });
  }
  if (wavg && flan) {
    const wins = langs.filter((c) => (wavg.values[c.key] ?? 0) > (flan.values[c.key] ?? 0)).map((c) => c.label);
    out.push({ id: "wavg-four", section: "5.1", claim: "WAVG-X-flan still achieves better performance than CTSFT-X-flan in four languages", computed: `${wins.length}: ${wins.join(", ")}`, ok: wins.length === 4 });
  }
  if (mt && flan) {
    const gaps = langs.map((c) => (mt.values[c.key] ?? 0) - (flan.values[c.key] ?? 0));
    const hi = Math.max(...gaps);
    const lo = Math.min(...gaps);
    out.push({ id: "mt-gap", section: "7.2", claim: "CTSFT-X-mt trails CTSFT-X-flan in all languages, with a gap of −3.38% ~ −24.61%", computed: `gaps from ${fmt(hi)} to ${fmt(lo)}`, ok: hi < 0 && agree(hi, -3.38) && agree(lo, -24.61) });
  }
  const [t4ties, t4sv] = data.table4.rows;
  if (t4ties && t4sv) {
    const d = t4sv.average - t4ties.average;
    out.push({ id: "sv-gain", section: "6.2", claim: "TIES-SV outperforms vanilla TIES by 0.52% on average", computed: `${fmt(t4sv.average)} − ${fmt(t4ties.average)} = ${fmt(d)}`, ok: agree(d, 0.52) });
    const better = data.table4.columns.filter((c) => (t4sv.values[c.key] ?? 0) > (t4ties.values[c.key] ?? 0)).length;
    out.push({ id: "sv-all", section: "6.2", claim: "In all three tasks, TIES-SV outperforms vanilla TIES", computed: `better in ${better} of ${data.table4.columns.length}`, ok: better === data.table4.columns.length });
  }
  return out;
}

// ---------- shaped for the page and for charts ----------

export interface ChartData {
  data: Record<string, string | number | null>[];
  index: string;
  categories: string[];
}

/** Table 3 as a grouped bar chart: one group per language, one bar per model. */
export function table3Chart(data: PaperData = paperData()): ChartData {
  const t3 = data.table3;
  return {
    index: "language",
    categories: t3.rows.map((r) => r.label),
    data: [...t3.columns.map((c) => ({ language: c.label, ...Object.fromEntries(t3.rows.map((r) => [r.label, r.values[c.key] ?? null])) })), { language: "Average", ...Object.fromEntries(t3.rows.map((r) => [r.label, r.average])) }],
  };
}

/** One language table (7–13) as a chart: one group per task (and Average), one bar per model. */
export function languageTableChart(t: LanguageTable): ChartData {
  return {
    index: "task",
    categories: t.rows.map((r) => r.label),
    data: [...t.columns.map((c) => ({ task: c.label, ...Object.fromEntries(t.rows.map((r) => [r.label, r.values[c.key] ?? null])) })), { task: "Average", ...Object.fromEntries(t.rows.map((r) => [r.label, r.average])) }],
  };
}

export const overlayPointSchema = z.object({ method: methodSchema, label: z.string(), model: z.string(), value: z.number(), source: z.string() });
export const overlaySchema = z.object({ language: z.string(), languageName: z.string().nullable(), benchmark: z.string().nullable(), series: z.array(overlayPointSchema), note: z.string().nullable() });
export type PaperOverlay = z.infer<typeof overlaySchema>;

/**
 * The paper's numbers for one language as reference series (e.g. horizontal lines on an
 * experiment's chart): per method, the language average — or one benchmark's score.
 */
export function paperOverlay(input: { language: string; benchmark?: string | null; methods?: PaperMethod[] }, data: PaperData = paperData()): PaperOverlay {
  const language = input.language;
  const lt = data.languageTables.find((t) => t.language === language);
  const languageName = data.languages.find((l) => l.code === language)?.name ?? null;
  if (!lt) return { language, languageName, benchmark: input.benchmark ?? null, series: [], note: `the paper has no results for '${language}' (it covers ${data.languageTables.map((t) => t.language).join(", ")})` };
  const col = input.benchmark ? lt.columns.find((c) => c.benchmark === input.benchmark || c.label === input.benchmark || c.key === input.benchmark) : undefined;
  if (input.benchmark && !col) return { language, languageName, benchmark: input.benchmark, series: [], note: `Table ${lt.number} has no ${input.benchmark} column (${lt.columns.map((c) => c.label).join(", ")})` };
  const rows = [...lt.rows.map((r) => ({ row: r, table: lt.number })), ...(data.table4.language === language ? data.table4.rows.filter((r) => r.model.method === "TIES-SV").map((r) => ({ row: r, table: 4 })) : [])];
  const series = rows
    .filter(({ row }) => !input.methods || input.methods.includes(row.model.method))
    .map(({ row, table }) => {
      const value = col ? row.values[col.key] : row.average;
      return value === undefined ? null : { method: row.model.method, label: row.label, model: canonicalModelName(row.model), value, source: `Table ${table}` };
    })
    .filter((x): x is NonNullable<typeof x> => x !== null);
  return { language, languageName, benchmark: col?.benchmark ?? null, series, note: null };
}
