"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";

function AttachRow({ name, scores, files, models }: { name: string; scores: number; files: string[]; models: { id: string; name: string; path: string }[] }) {
  const trpc = useTRPC();
  const refetchAfterWrite = useRefetchAfterWrite();
  const [modelId, setModelId] = useState("");
  const attach = useMutation(trpc.scores.attachScores.mutationOptions({ onSuccess: () => refetchAfterWrite(trpc.scores.pathKey()) }));
  const selectId = `attach-${name}`;
  return (
    <tr data-testid="unattached-row" data-model-name={name}>
      <td>
        <code className="path">{name}</code>
      </td>
      <td className="num">{scores}</td>
      <td className="path">{files.join(", ")}</td>
      <td>
        <div className="btn-row">
          <label className="sr-only" htmlFor={selectId}>
            Registered model for {name}
          </label>
          <select id={selectId} value={modelId} onChange={(e) => setModelId(e.target.value)}>
            <option value="">choose a registered model…</option>
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </select>
          <button type="button" className="btn btn-small" disabled={!modelId || attach.isPending} onClick={() => attach.mutate({ modelName: name, modelId })}>
            Attach
          </button>
        </div>
        {attach.isError && <ErrorAlert error={attach.error} />}
      </td>
    </tr>
  );
}

/** Scores kept under the model name a file gave (no registered model had that path): attach them to a model. */
export function UnattachedPanel() {
  const trpc = useTRPC();
  const q = useQuery(trpc.scores.unattached.queryOptions());
  const models = useQuery(trpc.scores.models.queryOptions());
  if (!q.data || q.data.length === 0) return null;
  return (
    <section className="card" aria-labelledby="unattached-title" data-testid="unattached-panel">
      <h2 id="unattached-title">Scores not filed under a registered model</h2>
      <p className="hint">No registered model has the path these files name. Attach them to one (register it on the Models page first if needed).</p>
      <div className="table-wrap">
        <table className="data">
          <thead>
            <tr>
              <th scope="col">Model name in the file</th>
              <th scope="col" className="num">
                Scores
              </th>
              <th scope="col">Files</th>
              <th scope="col">Attach to</th>
            </tr>
          </thead>
          <tbody>
            {q.data.map((u) => (
              <AttachRow key={u.modelName} name={u.modelName} scores={u.scores} files={u.files} models={models.data ?? []} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
