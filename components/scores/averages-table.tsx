"use client";

import { useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { GroupedBarChart } from "@/components/paper/grouped-bar-chart";
import { useTRPC } from "@/components/providers/trpc";
import { useLanguageNames } from "@/components/common/language-input";
import { sortLanguages } from "@/server/services/languages/codes";
import type { ModelAveragesRow } from "@/server/services/scores/catalogue";

const fmt = (v: number) => v.toFixed(2);

function AverageCell({ cell }: { cell: ModelAveragesRow["languages"][number] | undefined }) {
  if (!cell) return <td className="num muted">—</td>;
  const detail = cell.parts.map((p) => (p.value !== null ? `${p.benchmark}: ${fmt(p.value)} (${p.task})` : `${p.benchmark}: — ${p.missing ?? ""}`)).join("\n");
  if (cell.average !== null)
    return (
      <td className="num" title={detail} data-testid={`avg-${cell.language}`}>
        {fmt(cell.average)}
      </td>
    );
  return (
    <td className="num partial" title={detail} data-testid={`avg-${cell.language}`} data-partial="true">
      ({fmt(cell.partialAverage ?? 0)})<span className="muted"> {cell.covered}/{cell.expected}</span>
      <span className="sr-only"> partial: only {cell.covered} of {cell.expected} benchmarks</span>
    </td>
  );
}

/** Table-3-style averages of the imported scores, with the paper's numbers for one language as reference lines. */
export function AveragesTable() {
  const trpc = useTRPC();
  const [split, setSplit] = useState<"test" | "dev">("test");
  const [chartLang, setChartLang] = useState("");
  const ids = { split: useId(), lang: useId() };
  const q = useQuery(trpc.scores.averages.queryOptions({ split }));
  const languageName = useLanguageNames();
  const languages = sortLanguages((q.data ?? []).flatMap((r) => r.languages.map((l) => l.language)));
  const lang = chartLang || languages[0] || "";
  const overlay = useQuery({ ...trpc.scores.paper.overlay.queryOptions({ language: lang || "ben", methods: ["TIES", "CTSFT-flan", "CT"] }), enabled: !!lang && split === "test" });
  const chartData = (q.data ?? [])
    .map((r) => ({ r, cell: r.languages.find((l) => l.language === lang) }))
    .filter((x) => x.cell)
    .map(({ r, cell }) => ({ model: r.modelLabel ?? r.modelName.split("/").filter(Boolean).at(-1) ?? r.modelName, average: cell!.average ?? cell!.partialAverage }));

  return (
    <section className="card" aria-labelledby="avg-title">
      <h2 id="avg-title">Averages per language</h2>
      <p className="hint">
        As in the paper&apos;s Table 3: per language, the primary metric of each of its benchmarks (task catalogue below), in %, then their mean. Values in
        parentheses average only some of the language&apos;s benchmarks.
      </p>
      <div className="row">
        <div className="field">
          <label htmlFor={ids.split}>Split</label>
          <select id={ids.split} value={split} onChange={(e) => setSplit(e.target.value as "test" | "dev")} data-testid="averages-split">
            <option value="test">test</option>
            <option value="dev">dev</option>
          </select>
        </div>
      </div>
      {q.isError && <ErrorAlert error={q.error} />}
      {q.data && q.data.length === 0 && <p className="empty">No {split} scores for the catalogue&apos;s tasks yet.</p>}
      {q.data && q.data.length > 0 && (
        <>
          <div className="table-wrap">
            <table className="data row-headers" data-testid="averages-table">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  {languages.map((l) => (
                    <th key={l} scope="col" className="num">
                      {languageName(l)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {q.data.map((r) => (
                  <tr key={r.modelKey} data-testid="averages-row" data-model={r.modelLabel ?? r.modelName}>
                    <th scope="row">
                      {r.modelLabel ?? <code className="path">{r.modelName}</code>}
                    </th>
                    {languages.map((l) => (
                      <AverageCell key={l} cell={r.languages.find((x) => x.language === l)} />
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="row">
            <div className="field">
              <label htmlFor={ids.lang}>Chart language</label>
              <select id={ids.lang} value={lang} onChange={(e) => setChartLang(e.target.value)}>
                {languages.map((l) => (
                  <option key={l} value={l}>
                    {languageName(l)}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <GroupedBarChart
            data={chartData}
            index="model"
            categories={["average"]}
            colors={["#0072B2"]}
            height={280}
            valueFormatter={fmt}
            yLabel="average (%)"
            referenceLines={split === "test" ? overlay.data?.series.map((s) => ({ value: s.value, label: `paper ${s.model} ${fmt(s.value)}` })) : undefined}
            title={`${languageName(lang)} ${split} averages of your models${split === "test" ? ", with the paper's TIES, CTSFT-flan and CT numbers as dashed lines" : ""}`}
            data-testid="averages-chart"
          />
          {split === "test" && overlay.data?.note && <p className="hint">{overlay.data.note}</p>}
        </>
      )}
    </section>
  );
}
