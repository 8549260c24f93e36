import { ConsistencyReportView } from "@/components/paper/consistency-report";
import { PaperTable, type PaperTableRow } from "@/components/paper/paper-table";
import { Table3Chart } from "@/components/paper/table3-chart";
import { checkConsistency, paperData, table3Chart, type ConsistencyReport, type LanguageTable } from "@/server/services/scores/paper";
import "./paper.css";

export const metadata = { title: "Paper results — MergeScope" };

type Flags = Map<string, { text: string; severity: "inconsistent" | "suspicious" }>;

function flagsFor(table: number, report: ConsistencyReport): Flags {
  const flags: Flags = new Map();
  for (const s of report.suspicious) for (const c of s.cells) if (c.table === table) flags.set(`${c.row}|${c.column}`, { text: s.message, severity: "suspicious" });
  for (const d of report.discrepancies) for (const c of d.cells) if (c.table === table) flags.set(`${c.row}|${c.column}`, { text: d.message, severity: "inconsistent" });
  return flags;
}

function languageRows(t: LanguageTable): PaperTableRow[] {
  return t.rows.map((r) => ({
    key: r.label,
    label: r.label,
    values: r.values,
    average: r.average,
    recomputed: t.columns.reduce((a, c) => a + (r.values[c.key] ?? 0), 0) / t.columns.length,
  }));
}

/** The paper's published numbers (Tao et al., 2024), with what does not add up. */
export default function PaperPage() {
  const data = paperData();
  const report = checkConsistency(data);
  const chart = table3Chart(data);
  const lang = (code: string) => data.languages.find((l) => l.code === code)?.name ?? code;
  return (
    <>
      <h1>Paper results</h1>
      <p className="lead">
        The numbers published in <em>Unlocking the Potential of Model Merging for Low-Resource Languages</em> (Tao et al., 2024) — Llama-2-7B adapted to seven
        low-resource languages by CT-then-SFT or by merging — as reference for your own runs. Scores are in %, test split. These are the paper&apos;s numbers, not
        evaluations run by MergeScope.
      </p>
      <nav className="toc" aria-label="Tables">
        <a href="#table-3">Table 3</a>
        <a href="#table-4">Table 4</a>
        <a href="#table-5">Table 5</a>
        {data.languageTables.map((t) => (
          <a key={t.number} href={`#table-${t.number}`}>
            Table {t.number} ({lang(t.language)})
          </a>
        ))}
      </nav>

      <ConsistencyReportView report={report} />

      <section className="paper-section" id="table-3" aria-labelledby="t3-title">
        <h2 id="t3-title">Average per language (Table 3)</h2>
        <PaperTable
          number={3}
          caption={`${data.table3.caption} Bold and underline are recomputed here from the numbers.`}
          columns={data.table3.columns}
          extraHeaders={["Task", "Lang."]}
          rows={data.table3.rows.map((r) => ({
            key: r.label,
            label: r.label,
            values: r.values,
            average: r.average,
            extra: [r.enhancedTask ? "✓" : "", r.learnedLanguage ? "✓" : ""],
          }))}
          hasAverage
          flags={flagsFor(3, report)}
          rankColumns
        />
        <Table3Chart data={chart.data} index={chart.index} categories={chart.categories} />
      </section>

      <section className="paper-section" id="table-4" aria-labelledby="t4-title">
        <h2 id="t4-title">TIES with a slack variable (Table 4)</h2>
        <PaperTable number={4} caption={data.table4.caption} columns={data.table4.columns} rows={languageRows(data.table4)} hasAverage showRecomputed flags={flagsFor(4, report)} />
      </section>

      <section className="paper-section" id="table-5" aria-labelledby="t5-title">
        <h2 id="t5-title">Merging two languages (Table 5)</h2>
        <PaperTable
          number={5}
          caption={data.table5.caption}
          columns={data.table5.columns}
          extraHeaders={["Ability"]}
          rows={data.table5.rows.map((r) => ({ key: r.label, label: r.label, values: r.values, extra: [r.ability] }))}
          hasAverage={false}
          flags={flagsFor(5, report)}
          rankColumns
        />
      </section>

      {data.languageTables.map((t) => (
        <section key={t.number} className="paper-section" id={`table-${t.number}`} aria-labelledby={`t${t.number}-title`}>
          <h2 id={`t${t.number}-title`}>
            {lang(t.language)} (Table {t.number})
          </h2>
          <PaperTable number={t.number} caption={t.caption} columns={t.columns} rows={languageRows(t)} hasAverage showRecomputed flags={flagsFor(t.number, report)} />
        </section>
      ))}
    </>
  );
}
