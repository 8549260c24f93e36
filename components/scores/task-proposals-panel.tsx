"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useId, useMemo, useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { LanguageInput, languageProblem } from "@/components/common/language-input";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";
import { hasBuiltInName, languageKey } from "@/server/services/languages/codes";
import type { TaskProposal } from "@/server/services/scores/task-proposals";

interface Choice {
  chosen: boolean;
  benchmark: string;
  /** "metric\u0000filter" among the metrics seen. */
  metricKey: string;
  devTask: string;
}

const keyOf = (m: { metric: string; filter: string }) => `${m.metric}\u0000${m.filter}`;
const metricLabel = (m: { metric: string; filter: string }) => (m.filter === "none" ? m.metric : `${m.metric} (${m.filter})`);

function initialChoices(proposals: TaskProposal[]): Record<string, Choice> {
  return Object.fromEntries(proposals.map((p) => [p.task, { chosen: true, benchmark: p.benchmark, metricKey: keyOf(p), devTask: p.devTask ?? "" }]));
}

/** A language's imported tasks that the catalogue does not map yet: tick, adjust, and add them in one step. */
export function TaskProposalsPanel() {
  const trpc = useTRPC();
  const refetchAfterWrite = useRefetchAfterWrite();
  const id = useId();
  const languages = useQuery(trpc.scores.catalogue.languages.queryOptions());
  // Default: the first known language without catalogue tasks (a new experiment's language).
  const fallback = useMemo(() => languages.data?.find((l) => l.catalogueTasks === 0)?.flores ?? "", [languages.data]);
  const [typed, setTyped] = useState<string | null>(null);
  const language = typed ?? fallback;
  const valid = language.trim() !== "" && languageProblem(language) === null;
  const q = useQuery({ ...trpc.scores.catalogue.proposals.queryOptions({ language: language.trim() }), enabled: valid });
  const [choices, setChoices] = useState<Record<string, Choice>>({});
  const [name, setName] = useState("");
  useEffect(() => {
    if (q.data) {
      setChoices(initialChoices(q.data.proposals));
      setName(q.data.language.name ?? "");
    }
  }, [q.data]);
  const add = useMutation(
    trpc.scores.catalogue.addProposed.mutationOptions({
      onSuccess: () => refetchAfterWrite(trpc.scores.pathKey()),
    }),
  );
  const proposals = q.data?.proposals ?? [];
  const chosen = proposals.filter((p) => choices[p.task]?.chosen);
  // Counted as the confirmation counts them: each row and its dev task.
  const count = chosen.length + chosen.filter((p) => choices[p.task]!.devTask.trim()).length;
  const askName = valid && !hasBuiltInName(languageKey(language));

  function confirm() {
    add.mutate({
      language: language.trim(),
      languageName: askName && name.trim() ? name.trim() : null,
      tasks: chosen.map((p) => {
        const c = choices[p.task]!;
        const m = p.metrics.find((x) => keyOf(x) === c.metricKey) ?? p;
        return { task: p.task, benchmark: c.benchmark.trim() || p.benchmark, metric: m.metric, filter: m.filter, scale: p.scale, priority: p.priority, devTask: c.devTask.trim() || null };
      }),
    });
  }
  const set = (task: string, patch: Partial<Choice>) => setChoices((cs) => ({ ...cs, [task]: { ...cs[task]!, ...patch } }));

  return (
    <div className="stack" data-testid="task-proposals">
      <h3>Add a language&apos;s tasks from imported results</h3>
      <div className="row">
        <div className="field">
          <label htmlFor={`${id}-lang`}>Language</label>
          <LanguageInput id={`${id}-lang`} value={language} onChange={(v) => (setTyped(v), add.reset())} size={10} />
        </div>
        {askName ? (
          <div className="field">
            <label htmlFor={`${id}-name`}>Language name</label>
            <input id={`${id}-name`} type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Mingrelian" size={16} />
          </div>
        ) : null}
      </div>
      {q.isError && <ErrorAlert error={q.error} />}
      {add.isSuccess && (
        <p className="alert alert-ok" role="status" data-testid="proposals-added">
          {add.data.message}.
        </p>
      )}
      {valid && q.data && proposals.length === 0 && !add.isSuccess ? (
        <p className="empty">
          No imported task names {q.data.language.flores} that the catalogue lacks ({q.data.catalogued} catalogue rows for it). Import its results first, or add rows by hand
          below.
        </p>
      ) : null}
      {proposals.length > 0 ? (
        <>
          <p className="hint">
            Imported tasks whose names carry {q.data!.language.label}. A task seen only on the dev split is proposed as the dev task of the test task of the same benchmark.
          </p>
          <div className="table-wrap">
            <table className="data" data-testid="proposals-table">
              <caption className="sr-only">Proposed catalogue rows for {q.data!.language.label}</caption>
              <thead>
                <tr>
                  <th scope="col">Add</th>
                  <th scope="col">Task</th>
                  <th scope="col">Splits</th>
                  <th scope="col">Benchmark</th>
                  <th scope="col">Primary metric</th>
                  <th scope="col">Dev task</th>
                  <th scope="col" className="num">Scores</th>
                </tr>
              </thead>
              <tbody>
                {proposals.map((p) => {
                  const c = choices[p.task];
                  if (!c) return null;
                  return (
                    <tr key={p.task} data-testid="proposal-row" data-task={p.task}>
                      <td>
                        <input type="checkbox" aria-label={`Add ${p.task}`} checked={c.chosen} onChange={(e) => set(p.task, { chosen: e.target.checked })} />
                      </td>
                      <td>{p.task}</td>
                      <td>{p.splits.join(", ")}</td>
                      <td>
                        <input aria-label={`Benchmark of ${p.task}`} type="text" value={c.benchmark} onChange={(e) => set(p.task, { benchmark: e.target.value })} size={10} />
                      </td>
                      <td>
                        <select aria-label={`Primary metric of ${p.task}`} value={c.metricKey} onChange={(e) => set(p.task, { metricKey: e.target.value })}>
                          {p.metrics.map((m) => (
                            <option key={keyOf(m)} value={keyOf(m)}>
                              {metricLabel(m)}
                            </option>
                          ))}
                        </select>
                      </td>
                      <td>
                        <input aria-label={`Dev task of ${p.task}`} type="text" value={c.devTask} onChange={(e) => set(p.task, { devTask: e.target.value })} placeholder="same task" size={16} />
                      </td>
                      <td className="num">{p.scores}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <div className="btn-row">
            <button type="button" className="btn btn-primary" disabled={chosen.length === 0 || add.isPending} onClick={confirm}>
              Add {count} task{count === 1 ? "" : "s"} to the catalogue
            </button>
          </div>
        </>
      ) : null}
      {add.isError && <ErrorAlert error={add.error} prefix="Not added:" />}
    </div>
  );
}
