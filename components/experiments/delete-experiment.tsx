"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";

/** Two-step delete: the experiment and its analyses go; models and job outputs stay. */
export function DeleteExperiment({ id, name }: { id: string; name: string }) {
  const trpc = useTRPC();
  const refetchAfterWrite = useRefetchAfterWrite();
  const router = useRouter();
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation(
    trpc.experiments.delete.mutationOptions({
      onSuccess: async () => {
        await refetchAfterWrite(trpc.experiments.pathKey());
        router.push("/experiments");
      },
    }),
  );
  if (!confirming) {
    return (
      <button type="button" className="btn btn-danger" onClick={() => setConfirming(true)}>
        Delete experiment
      </button>
    );
  }
  return (
    <div className="alert alert-warn" role="group" aria-label="Confirm deletion">
      <p style={{ margin: "0 0 0.5rem" }}>
        Delete &apos;{name}&apos; and its stored analyses? Registered models, jobs and merged outputs stay.
      </p>
      <div className="btn-row">
        <button type="button" className="btn btn-danger" onClick={() => remove.mutate({ id })} disabled={remove.isPending} autoFocus>
          Confirm delete
        </button>
        <button type="button" className="btn" onClick={() => setConfirming(false)}>Cancel</button>
      </div>
      {remove.isError ? <ErrorAlert error={remove.error} /> : null}
    </div>
  );
}
