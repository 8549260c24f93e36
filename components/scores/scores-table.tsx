"use client";

import { useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";

/** Every imported score: model, task, split (and why), metric, filter, value ± stderr, source file. */
export function ScoresTable() {
  const trpc = useTRPC();
  const [modelId, setModelId] = useState("");
  const [split, setSplit] = useState<"" | "dev" | "test">("");
  const [task, setTask] = useState("");
  const ids = { model: useId(), split: useId(), task: useId() };
  const models = useQuery(trpc.scores.models.queryOptions());
  const q = useQuery(trpc.scores.list.queryOptions({ modelId: modelId || undefined, split: split || undefined, task: task.trim() || undefined, limit: 5000 }));
  return (
    <section className="card" aria-labelledby="scores-title">
      <h2 id="scores-title">Scores</h2>
      <div className="row">
        <div className="field">
          <label htmlFor={ids.model}>Model</label>
          <select id={ids.model} value={modelId} onChange={(e) => setModelId(e.target.value)}>
            <option value="">all</option>
            {models.data?.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.split}>Split</label>
          <select id={ids.split} value={split} onChange={(e) => setSplit(e.target.value as "" | "dev" | "test")}>
            <option value="">all</option>
            <option value="dev">dev</option>
            <option value="test">test</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.task}>Task</label>
          <input id={ids.task} type="search" value={task} onChange={(e) => setTask(e.target.value)} placeholder="exact task name" />
        </div>
      </div>
      {q.isError && <ErrorAlert error={q.error} />}
      {q.data && q.data.length === 0 && <p className="empty">No scores yet: import lm-eval results above.</p>}
      {q.data && q.data.length > 0 && (
        <div className="table-wrap">
          <table className="data" data-testid="scores-table">
            <caption className="sr-only">Imported scores</caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Task</th>
                <th scope="col">Split</th>
                <th scope="col">Metric</th>
                <th scope="col">Filter</th>
                <th scope="col" className="num">
                  Value
                </th>
                <th scope="col" className="num">
                  Stderr
                </th>
                <th scope="col" className="num">
                  Shots
                </th>
                <th scope="col">Source file</th>
              </tr>
            </thead>
            <tbody>
              {q.data.map((s) => (
                <tr key={s.id} data-testid="score-row" data-task={s.task} data-metric={s.metric} data-filter={s.filter}>
                  <td>
                    {s.modelLabel ?? (
                      // Not filed under a registered model: say so, with the full path the file named (a last segment
                      // like "base" would look like a registered model's name).
                      <>
                        <span className="badge badge-warn">unattached</span> <code className="path">{s.modelName}</code>
                      </>
                    )}
                  </td>
                  <td>
                    {s.task}
                    {s.isGroup && <span className="muted"> (group)</span>}
                  </td>
                  <td title={`chosen by: ${s.splitSource}`}>
                    {s.split} <span className="muted split-source">({s.splitSource})</span>
                  </td>
                  <td>{s.metric}</td>
                  <td>{s.filter}</td>
                  <td className="num" data-testid="score-value">
                    {s.value.toFixed(4)}
                  </td>
                  <td className="num">{s.stderr === null ? "N/A" : s.stderr.toFixed(4)}</td>
                  <td className="num">{s.nShot ?? "—"}</td>
                  <td className="path">{s.sourceFile}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="hint">{q.data.length} score(s)</p>
        </div>
      )}
    </section>
  );
}
