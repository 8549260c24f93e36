"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC, type RouterOutputs } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";

type Unattached = RouterOutputs["scores"]["unattached"][number];
type ModelOption = RouterOutputs["scores"]["models"][number];
type Choice = { modelId: string; confirmed: boolean };

/** The proposal for a file: its only candidate, confirmed in advance; several candidates wait for a choice. */
function proposal(u: Unattached): Choice {
  return u.candidates.length === 1 ? { modelId: u.candidates[0]!.modelId, confirmed: true } : { modelId: "", confirmed: false };
}

function evidence(c: Unattached["candidates"][number]): string {
  return c.by === "fingerprint" ? `digest ${c.evidence}` : `same ${c.segments === 1 ? "folder name" : `last ${c.segments} path segments`} (${c.evidence})`;
}

function ReviewRow({ u, choice, models, onChange }: { u: Unattached; choice: Choice; models: ModelOption[]; onChange: (c: Choice) => void }) {
  const selectId = `attach-${u.sourceHash}`;
  const others = models.filter((m) => !u.candidates.some((c) => c.modelId === m.id));
  return (
    <tr data-testid="unattached-row" data-source-hash={u.sourceHash} data-model-name={u.modelName}>
      <td>
        <input
          type="checkbox"
          aria-label={`Confirm ${u.sourceFile}`}
          checked={choice.confirmed}
          disabled={!choice.modelId}
          onChange={(e) => onChange({ ...choice, confirmed: e.target.checked })}
        />
      </td>
      <td>
        <div className="path">{u.sourceFile}</div>
        <div className="muted">
          <span className="badge badge-warn">unattached</span> model in the file: <code className="path">{u.modelName}</code>
        </div>
      </td>
      <td className="num">{u.scores}</td>
      <td>
        <label className="sr-only" htmlFor={selectId}>
          Registered model for {u.sourceFile}
        </label>
        <select id={selectId} value={choice.modelId} onChange={(e) => onChange({ modelId: e.target.value, confirmed: e.target.value !== "" })}>
          <option value="">{u.candidates.length > 1 ? `${u.candidates.length} candidates: choose one…` : "choose a registered model…"}</option>
          {u.candidates.length > 0 && (
            <optgroup label="Candidates">
              {u.candidates.map((c) => (
                <option key={c.modelId} value={c.modelId}>
                  {c.name} — {c.path} ({evidence(c)})
                </option>
              ))}
            </optgroup>
          )}
          <optgroup label={u.candidates.length > 0 ? "Other registered models" : "Registered models"}>
            {others.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name} — {m.path}
              </option>
            ))}
          </optgroup>
        </select>
        {u.candidates.length === 0 && <div className="muted">No registered path ends like this one: choose the model, or register it on the Models page first.</div>}
      </td>
    </tr>
  );
}

/**
 * The review step for results files made on another machine: each file's candidate models
 * (fingerprint, else shared path suffix) with full paths; confirm several at once.
 */
export function UnattachedPanel() {
  const trpc = useTRPC();
  const refetchAfterWrite = useRefetchAfterWrite();
  const q = useQuery(trpc.scores.unattached.queryOptions());
  const models = useQuery(trpc.scores.models.queryOptions());
  const [edits, setEdits] = useState<Record<string, Choice>>({});
  const attach = useMutation(
    trpc.scores.attach.mutationOptions({
      onSuccess: () => {
        setEdits({});
        refetchAfterWrite(trpc.scores.pathKey());
      },
    }),
  );
  const rows = useMemo(() => (q.data ?? []).map((u) => ({ u, choice: edits[u.sourceHash] ?? proposal(u) })), [q.data, edits]);
  const confirmed = rows.filter((r) => r.choice.confirmed && r.choice.modelId);
  const done = attach.data;
  if (rows.length === 0 && !done) return null;
  return (
    <section className="card" aria-labelledby="unattached-title" data-testid="unattached-panel">
      <h2 id="unattached-title">Review: scores not filed under a registered model</h2>
      {rows.length > 0 && (
        <>
          <p className="hint">
            No registered model has the path these files name (they were probably evaluated on another machine). Each file lists the registered models that
            end in the same folders, or carry the digest in its path; check the proposals and confirm them together.
          </p>
          <div className="table-wrap">
            <table className="data">
              <thead>
                <tr>
                  <th scope="col">Confirm</th>
                  <th scope="col">Results file</th>
                  <th scope="col" className="num">
                    Scores
                  </th>
                  <th scope="col">File under</th>
                </tr>
              </thead>
              <tbody>
                {rows.map(({ u, choice }) => (
                  <ReviewRow key={u.sourceHash} u={u} choice={choice} models={models.data ?? []} onChange={(c) => setEdits((e) => ({ ...e, [u.sourceHash]: c }))} />
                ))}
              </tbody>
            </table>
          </div>
          <div className="btn-row">
            <button
              type="button"
              className="btn"
              disabled={confirmed.length === 0 || attach.isPending}
              onClick={() => attach.mutate({ items: confirmed.map((r) => ({ sourceHash: r.u.sourceHash, modelId: r.choice.modelId })) })}
            >
              Attach {confirmed.length} confirmed file{confirmed.length === 1 ? "" : "s"}
            </button>
          </div>
        </>
      )}
      {attach.isError && <ErrorAlert error={attach.error} />}
      {done && (
        <div role="status" data-testid="attach-result">
          <p>
            Attached {done.reduce((n, d) => n + d.attached, 0)} scores of {done.length} file{done.length === 1 ? "" : "s"}:
          </p>
          <ul>
            {done.map((d) => (
              <li key={d.sourceHash}>
                {d.sourceFile} → {d.modelLabel} <code className="path">{d.modelPath}</code> ({d.attached} scores)
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
