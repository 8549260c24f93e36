"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import type { PreviewResult } from "@/server/services/builder/schemas";

export function jobsHref(experimentId: string | null): string {
  return experimentId ? `/jobs?experiment=${encodeURIComponent(experimentId)}` : "/jobs";
}

/** Queue the previewed recipe as one merge job, then go to the jobs page. */
export function QueueMerge({ preview, ready, experimentId }: { preview: PreviewResult | undefined; ready: boolean; experimentId: string | null }) {
  const trpc = useTRPC();
  const router = useRouter();
  const enqueue = useMutation(
    trpc.jobs.enqueue.mutationOptions({
      onSuccess: () => router.push(jobsHref(experimentId)),
    }),
  );
  const disabled = !ready || !preview?.ok || enqueue.isPending;
  return (
    <div className="stack" data-testid="queue-merge">
      <div className="btn-row">
        <button
          type="button"
          className="btn btn-primary"
          disabled={disabled}
          onClick={() =>
            preview &&
            enqueue.mutate({
              type: "merge",
              payload: { recipeYaml: preview.yaml, recipeDir: preview.recipeDir, label: preview.label },
              experimentId,
            })
          }
        >
          {enqueue.isPending ? "Queueing…" : "Queue merge"}
        </button>
        {preview?.ok ? <span className="hint">Writes a merged model: {preview.label}</span> : <span className="hint">Fix the recipe first.</span>}
      </div>
      {enqueue.isError ? <ErrorAlert error={enqueue.error} testId="queue-merge-error" prefix="Not queued:" /> : null}
    </div>
  );
}
