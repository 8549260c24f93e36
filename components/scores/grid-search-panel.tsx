"use client";

import { useQuery } from "@tanstack/react-query";
import { useId, useMemo, useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { useLanguageNames } from "@/components/common/language-input";
import { sortLanguages } from "@/server/services/languages/codes";

const fmt = (v: number | null) => (v === null ? "—" : v.toFixed(2));
const dens = (d: number[] | null) => (d ? `(${d.join(", ")})` : "—");

/** Appendix B: among merges differing only by densities, the best dev score picks the densities; its test score is reported. */
export function GridSearchPanel() {
  const trpc = useTRPC();
  // Every language the task catalogue has tasks for (the paper's first), not only the paper's seven.
  const catalogue = useQuery(trpc.scores.catalogue.list.queryOptions());
  const languages = useMemo(() => sortLanguages((catalogue.data ?? []).map((m) => m.language)), [catalogue.data]);
  const languageName = useLanguageNames();
  const labelOf = (code: string) => (languageName(code) === code ? code : `${languageName(code)} (${code})`);
  const [chosen, setLanguage] = useState<string | null>(null);
  const language = chosen ?? languages[0] ?? null;
  const [task, setTask] = useState("");
  const ids = { lang: useId(), task: useId() };
  const q = useQuery({
    ...trpc.scores.gridSearch.queryOptions(task.trim() ? { task: task.trim() } : { language: language ?? "" }),
    enabled: !!task.trim() || language !== null,
  });
  return (
    <section className="card" aria-labelledby="grid-title">
      <h2 id="grid-title">Density grid search (dev → test)</h2>
      <p className="hint">
        Merged models from finished merge jobs whose recipes differ only by their densities form a grid. The densities with the best <strong>dev</strong> score are
        chosen and their <strong>test</strong> score reported, as in the paper&apos;s Appendix B (k ∈ {"{"}0.01, 0.2, 0.4, 0.6, 0.8, 1.0{"}"}).
      </p>
      <div className="row">
        <div className="field">
          <label htmlFor={ids.lang}>Score: language average</label>
          <select id={ids.lang} value={language ?? ""} onChange={(e) => setLanguage(e.target.value)} disabled={!!task.trim() || languages.length === 0}>
            {languages.map((code) => (
              <option key={code} value={code}>
                {labelOf(code)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.task}>or one task</label>
          <input id={ids.task} type="search" value={task} onChange={(e) => setTask(e.target.value)} placeholder="e.g. belebele_ben_Beng" />
        </div>
      </div>
      {q.isError && <ErrorAlert error={q.error} />}
      {q.data && q.data.groups.length === 0 && <p className="empty">No finished merges yet: run a density sweep from the merge builder, then evaluate its outputs.</p>}
      {q.data?.groups.map((g) => (
        <div key={g.groupKey} className="grid-group" data-testid="grid-group">
          <h3>
            {g.method} — {g.models.map((m) => m.split("/").filter(Boolean).at(-1)).join(" + ")}
            {g.basePath ? ` on ${g.basePath.split("/").filter(Boolean).at(-1)}` : ""}
          </h3>
          <p data-testid="grid-best">
            Best densities by dev: <strong>{dens(g.bestDensities)}</strong> — dev {fmt(g.devScore)}, test <strong>{fmt(g.testScore)}</strong>
            {g.tie ? " (tie on dev: the first in density order is taken)" : ""}
          </p>
          <div className="table-wrap">
            <table className="data">
              <caption className="sr-only">Candidates of the {g.method} grid, scored by {q.data.score.label}</caption>
              <thead>
                <tr>
                  <th scope="col">Densities (recipe order)</th>
                  <th scope="col">Merged model</th>
                  <th scope="col" className="num">
                    Dev
                  </th>
                  <th scope="col" className="num">
                    Test
                  </th>
                </tr>
              </thead>
              <tbody>
                {g.candidates.map((c) => (
                  <tr key={c.jobId} data-best={c.best}>
                    <td>
                      {c.best ? <strong>{dens(c.densities)} ★</strong> : dens(c.densities)}
                    </td>
                    <td>
                      {c.modelName}
                      {c.modelId === null && <span className="muted"> (not registered)</span>}
                    </td>
                    <td className="num">
                      {fmt(c.devScore)}
                      {c.devScore !== null && !c.devComplete ? " (partial)" : ""}
                    </td>
                    <td className="num">
                      {fmt(c.testScore)}
                      {c.testScore !== null && !c.testComplete ? " (partial)" : ""}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ))}
      {q.data && q.data.groups.length > 0 && <p className="hint">Score: {q.data.score.label}.</p>}
    </section>
  );
}
