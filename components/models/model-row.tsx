"use client";

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { formatBytes, formatCount, formatTokens } from "@/components/common/format";
import { RoleBadge } from "@/components/common/role-badge";
import { SyntheticBadge } from "@/components/common/synthetic-badge";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";
import type { MergeLineage, ModelSummary } from "@/server/services/models/schemas";

/** A model in the table, with Edit and a two-step Delete. */
export function ModelRow({ model: m, onEdit }: { model: ModelSummary; onEdit: () => void }) {
  const trpc = useTRPC();
  const refetchAfterWrite = useRefetchAfterWrite();
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation(
    trpc.models.delete.mutationOptions({
      onSuccess: () => refetchAfterWrite(trpc.models.pathKey()),
    }),
  );
  return (
    <tr data-testid="model-row" data-name={m.name} data-role={m.role}>
      <td>
        <strong>{m.name}</strong>
        {m.synthetic ? <SyntheticBadge /> : null}
        <div className="path" title={m.path}>{m.path}</div>
        {m.lineage ? <MergeLineageNote lineage={m.lineage} /> : null}
      </td>
      <td><RoleBadge role={m.role} /></td>
      <td>{m.language ?? "—"}</td>
      <td className="num" data-testid="model-tokens">{m.ctTokens !== null ? formatTokens(m.ctTokens) : "—"}</td>
      <td>{m.architecture ?? "—"}</td>
      <td className="num">{formatCount(m.parameterCount)}</td>
      <td>{m.dtype ?? "—"}</td>
      <td className="num" data-testid="model-vocab">
        {m.vocabSize !== null ? m.vocabSize.toLocaleString("en-US") : "—"}
        {m.vocabDiffers ? (
          <div className="badge badge-bad" data-testid="vocab-differs" title="Without tokenizer_source a merge with this base cuts this model's extra embedding rows (its new tokens are lost); use tokenizer_source: union in the recipe to keep them.">
            ≠ {m.vocabDiffers.base} ({m.vocabDiffers.baseVocabSize.toLocaleString("en-US")})
          </div>
        ) : null}
      </td>
      <td className="num">{m.shardCount}</td>
      <td className="num">{formatBytes(m.sizeBytes)}</td>
      <td>
        {confirming ? (
          <div className="stack">
            <span>Remove &apos;{m.name}&apos; from MergeScope? (files stay on disk)</span>
            <div className="btn-row">
              <button type="button" className="btn btn-small btn-danger" onClick={() => remove.mutate({ id: m.id })} disabled={remove.isPending} autoFocus>
                Confirm delete
              </button>
              <button type="button" className="btn btn-small" onClick={() => { setConfirming(false); remove.reset(); }}>
                Cancel
              </button>
            </div>
            {remove.isError ? <ErrorAlert error={remove.error} /> : null}
          </div>
        ) : (
          <div className="btn-row">
            <button type="button" className="btn btn-small" onClick={onEdit} aria-label={`Edit ${m.name}`}>Edit</button>
            <button type="button" className="btn btn-small btn-danger" onClick={() => setConfirming(true)} aria-label={`Delete ${m.name}`}>
              Delete
            </button>
          </div>
        )}
      </td>
    </tr>
  );
}

/** A merged model's method and inputs (from its manifest), with the recipe one click away. */
function MergeLineageNote({ lineage }: { lineage: MergeLineage }) {
  const base = lineage.inputs.find((i) => i.role === "base");
  const models = lineage.inputs.filter((i) => i.role === "model").map((i) => i.source);
  return (
    <details className="muted" data-testid="merge-lineage">
      <summary>
        {lineage.method ?? "merge"} of {models.join(" + ") || "?"}
        {base ? ` (base ${base.source})` : ""}
      </summary>
      <pre className="recipe">{lineage.recipeYaml}</pre>
      {lineage.engineVersion ? <div>engine {lineage.engineVersion}</div> : null}
    </details>
  );
}
