"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useId, useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";

/** Queue an `evaluate` job: run an admin-configured evaluation template (e.g. lm_eval) on a model; its results are imported when it finishes. */
export function EvaluatePanel() {
  const trpc = useTRPC();
  const models = useQuery(trpc.scores.models.queryOptions());
  const templates = useQuery(trpc.scores.templates.list.queryOptions());
  const [modelId, setModelId] = useState("");
  const [tasks, setTasks] = useState("");
  const [templateId, setTemplateId] = useState("");
  const [timeout, setTimeoutMinutes] = useState(360);
  const [split, setSplit] = useState<"" | "dev" | "test">("");
  const ids = { model: useId(), tasks: useId(), template: useId(), timeout: useId(), split: useId(), help: useId() };
  const evaluate = useMutation(trpc.scores.evaluate.mutationOptions());
  return (
    <section className="card" aria-labelledby="eval-title">
      <h2 id="eval-title">Evaluate a model</h2>
      <p className="hint" id={ids.help}>
        A worker runs one of the evaluation templates below (admins configure them) on the model; the <code>results_*.json</code> it writes under {"{out}"} is imported when
        it finishes. Experiments can name a template and evaluate every merge.
      </p>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          evaluate.mutate({
            modelId: modelId || null,
            tasks: tasks.split(/[\s,]+/).filter(Boolean),
            templateId: templateId || null,
            timeoutSeconds: Math.max(1, Math.round(timeout * 60)),
            split: split || null,
          });
        }}
      >
        <div className="row">
          <div className="field field-grow">
            <label htmlFor={ids.model}>Model</label>
            <select id={ids.model} value={modelId} onChange={(e) => setModelId(e.target.value)} required>
              <option value="">choose a registered model…</option>
              {models.data?.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name}
                  {m.language ? ` (${m.language})` : ""}
                </option>
              ))}
            </select>
          </div>
          <div className="field field-grow">
            <label htmlFor={ids.tasks}>Tasks</label>
            <input id={ids.tasks} type="text" value={tasks} onChange={(e) => setTasks(e.target.value)} placeholder="default: the catalogue's tasks for the model's language" />
          </div>
          <div className="field">
            <label htmlFor={ids.timeout}>Timeout (minutes)</label>
            <input id={ids.timeout} type="number" min={1} value={timeout} onChange={(e) => setTimeoutMinutes(Number(e.target.value))} />
          </div>
          <div className="field">
            <label htmlFor={ids.split}>Split</label>
            <select id={ids.split} value={split} onChange={(e) => setSplit(e.target.value as "" | "dev" | "test")}>
              <option value="">from the task configs</option>
              <option value="dev">dev</option>
              <option value="test">test</option>
            </select>
          </div>
        </div>
        <div className="field">
          <label htmlFor={ids.template}>Evaluation template</label>
          <select id={ids.template} value={templateId} onChange={(e) => setTemplateId(e.target.value)} aria-describedby={ids.help} required>
            <option value="">{templates.data?.length === 0 ? "no template yet: an admin adds one below" : "choose a template…"}</option>
            {templates.data?.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </div>
        <div className="btn-row">
          <button type="submit" className="btn btn-primary" disabled={evaluate.isPending || !modelId || !templateId}>
            Queue evaluation
          </button>
        </div>
      </form>
      {evaluate.isError && <ErrorAlert error={evaluate.error} testId="evaluate-error" />}
      {evaluate.data && (
        <p className="alert alert-ok" role="status">
          {evaluate.data.created ? "Queued" : "Already queued or done"}: job <code>{evaluate.data.job.id}</code> with &ldquo;{evaluate.data.template.name}&rdquo; ({evaluate.data.tasks.join(", ")}). Follow it on the{" "}
          <Link href="/jobs">Jobs</Link> page.
        </p>
      )}
    </section>
  );
}
