"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { LanguageInput, languageProblem } from "@/components/common/language-input";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";
import { languageName } from "@/server/services/languages/codes";
import type { TaskMappingInput } from "@/server/services/scores/catalogue";
import { TaskProposalsPanel } from "./task-proposals-panel";

const EMPTY: TaskMappingInput = { task: "", benchmark: "", language: "", metric: "acc", filter: "none", scale: 100, priority: 0, devTask: null };
const FIELDS: { key: keyof TaskMappingInput; label: string; type: "text" | "number"; width?: string }[] = [
  { key: "task", label: "Task", type: "text", width: "15rem" },
  { key: "benchmark", label: "Benchmark", type: "text", width: "8rem" },
  { key: "language", label: "Language", type: "text", width: "5rem" },
  { key: "metric", label: "Metric", type: "text", width: "8rem" },
  { key: "filter", label: "Filter", type: "text", width: "9rem" },
  { key: "scale", label: "Scale", type: "number", width: "5rem" },
  { key: "priority", label: "Priority", type: "number", width: "4.5rem" },
  { key: "devTask", label: "Dev task", type: "text", width: "12rem" },
];

function MappingRow({ initial, isNew, isDefault, onDone }: { initial: TaskMappingInput; isNew?: boolean; isDefault?: boolean; onDone?: () => void }) {
  const trpc = useTRPC();
  const refetchAfterWrite = useRefetchAfterWrite();
  const [row, setRow] = useState(initial);
  const refetch = () => refetchAfterWrite(trpc.scores.pathKey());
  const save = useMutation(trpc.scores.catalogue.upsert.mutationOptions({ onSuccess: () => (void refetch(), onDone?.()) }));
  const remove = useMutation(trpc.scores.catalogue.remove.mutationOptions({ onSuccess: refetch }));
  const dirty = JSON.stringify(row) !== JSON.stringify(initial);
  const name = initial.task || "new task";
  const id = useId();
  return (
    <tr data-testid={isNew ? "catalogue-new" : "catalogue-row"} data-task={initial.task}>
      {FIELDS.map((f) => (
        <td key={f.key}>
          {f.key === "language" ? (
            <LanguageInput id={`${id}-lang`} ariaLabel={`${f.label} of ${name}`} value={row.language} onChange={(language) => setRow({ ...row, language })} size={6} />
          ) : (
            <input
              aria-label={`${f.label} of ${name}`}
              type={f.type}
              value={String(row[f.key] ?? "")}
              style={{ width: f.width }}
              step={f.key === "scale" ? "any" : 1}
              placeholder={f.key === "devTask" ? "same task" : undefined}
              onChange={(e) => setRow({ ...row, [f.key]: f.type === "number" ? Number(e.target.value) : f.key === "devTask" ? e.target.value || null : e.target.value })}
            />
          )}
        </td>
      ))}
      <td>
        <div className="btn-row">
          <button type="button" className="btn btn-small btn-primary" disabled={(!dirty && !isNew) || save.isPending || !row.task || languageProblem(row.language, true) !== null} onClick={() => save.mutate({ ...row, previousTask: isNew ? undefined : initial.task })}>
            {isNew ? "Add" : "Save"}
          </button>
          {!isNew && (
            <button type="button" className="btn btn-small btn-danger" onClick={() => remove.mutate({ task: initial.task })} aria-label={`Remove ${initial.task} from the catalogue`}>
              Remove
            </button>
          )}
          {!isNew && !isDefault && <span className="muted">edited</span>}
        </div>
        {(save.isError || remove.isError) && <ErrorAlert error={save.error ?? remove.error} />}
      </td>
    </tr>
  );
}

/** The task catalogue: which task is which benchmark in which language, and which metric counts. Editable. */
export function CatalogueTable() {
  const trpc = useTRPC();
  const refetchAfterWrite = useRefetchAfterWrite();
  const q = useQuery(trpc.scores.catalogue.list.queryOptions());
  const unmapped = useQuery(trpc.scores.catalogue.unmapped.queryOptions());
  const reset = useMutation(trpc.scores.catalogue.reset.mutationOptions({ onSuccess: () => refetchAfterWrite(trpc.scores.pathKey()) }));
  const [newKey, setNewKey] = useState(0);
  const [prefill, setPrefill] = useState<TaskMappingInput>(EMPTY);
  return (
    <section className="card" aria-labelledby="catalogue-title">
      <h2 id="catalogue-title">Task catalogue</h2>
      <p className="hint">
        Maps lm-eval task names to the paper&apos;s benchmarks and languages. The primary metric (metric and filter, times the scale) is what counts in a
        language&apos;s average; when several tasks measure one benchmark (e.g. MGSM direct and native CoT), the lowest priority with a score counts. SIB-200 and
        MLiC-Eval have no lm-eval tasks of their own: the names here are conventions — rename them to yours. A row&apos;s <em>dev task</em> is the task whose
        dev-split scores stand for it (e.g. xka_belebele_dev for belebele_xka_Geor): the grid search and dev averages read it; empty, the task&apos;s own dev
        scores count. Languages are ISO 639-3 codes (tam, xka); a script may follow (xka_Geor).
      </p>
      <TaskProposalsPanel />
      {unmapped.data && unmapped.data.length > 0 && (
        <div className="alert alert-warn" data-testid="unmapped-tasks">
          <strong>Tasks with scores that the catalogue does not map:</strong>
          <ul>
            {unmapped.data.map((u) => (
              <li key={u.task}>
                {u.task} ({u.scores} scores)
                {u.suggestion ? (
                  <>
                    {" "}
                    — looks like {u.suggestion.benchmark} in {languageName(u.suggestion.language)}{" "}
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() => {
                        setPrefill(u.suggestion!);
                        setNewKey((k) => k + 1);
                      }}
                    >
                      Use as new row
                    </button>
                  </>
                ) : null}
              </li>
            ))}
          </ul>
        </div>
      )}
      {q.isError && <ErrorAlert error={q.error} />}
      <div className="table-wrap">
        <table className="data catalogue" data-testid="catalogue-table">
          <thead>
            <tr>
              {FIELDS.map((f) => (
                <th key={f.key} scope="col">
                  {f.label}
                </th>
              ))}
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {q.data?.map((m) => (
              <MappingRow
                key={`${m.task}:${m.updatedAt?.toISOString() ?? ""}`}
                initial={{ task: m.task, benchmark: m.benchmark, language: m.language, metric: m.metric, filter: m.filter, scale: m.scale, priority: m.priority, devTask: m.devTask }}
                isDefault={m.isDefault}
              />
            ))}
            <MappingRow key={`new-${newKey}`} initial={prefill} isNew onDone={() => (setPrefill(EMPTY), setNewKey((k) => k + 1))} />
          </tbody>
        </table>
      </div>
      <div className="btn-row">
        <button type="button" className="btn" onClick={() => reset.mutate()} disabled={reset.isPending}>
          Restore the built-in mappings
        </button>
        {reset.isSuccess && <span className="muted">restored {reset.data.restored} mappings</span>}
      </div>
    </section>
  );
}
