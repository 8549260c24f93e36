"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useId } from "react";
import { useHasRole } from "@/components/auth/session-context";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";

/** The experiment's evaluation setting: which admin-configured template evaluates each finished merge (or none). */
export function EvalTemplateSelect({ experimentId, templateId }: { experimentId: string; templateId: string | null }) {
  const trpc = useTRPC();
  const canEdit = useHasRole("researcher");
  const templates = useQuery(trpc.scores.templates.list.queryOptions());
  const refetchAfterWrite = useRefetchAfterWrite();
  const update = useMutation(trpc.experiments.update.mutationOptions({ onSuccess: () => refetchAfterWrite(trpc.experiments.get.queryKey({ id: experimentId })) }));
  const id = useId();
  const current = templates.data?.find((t) => t.id === templateId);
  if (!canEdit) return <>{current ? current.name : templateId ? "(a deleted template)" : "none"}</>;
  return (
    <>
      <label htmlFor={id} className="sr-only">
        Evaluation template for finished merges
      </label>
      <select id={id} value={templateId ?? ""} onChange={(e) => update.mutate({ id: experimentId, evalTemplateId: e.target.value || null })} disabled={update.isPending} data-testid="experiment-eval-template">
        <option value="">none (no automatic evaluation)</option>
        {templates.data?.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
      </select>
      {update.isError ? <ErrorAlert error={update.error} /> : null}
    </>
  );
}
