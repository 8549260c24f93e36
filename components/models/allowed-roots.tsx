"use client";

import { useQuery } from "@tanstack/react-query";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";

/** Where checkpoints may be registered from (MERGESCOPE_MODEL_ROOTS). */
export function AllowedRoots() {
  const trpc = useTRPC();
  const roots = useQuery(trpc.models.roots.queryOptions());
  if (roots.isPending) return <p className="hint" role="status">Loading the allowed model roots…</p>;
  if (roots.isError) return <ErrorAlert error={roots.error} prefix="Could not load the allowed model roots:" />;
  return (
    <p className="hint" data-testid="allowed-roots">
      Checkpoints can be registered from{" "}
      {roots.data.roots.map((r, i) => (
        <span key={r.path}>
          {i > 0 ? ", " : null}
          <code>{r.path}</code>
          {r.exists ? null : " (missing)"}
        </span>
      ))}{" "}
      (set <code>MERGESCOPE_MODEL_ROOTS</code>, colon-separated, to change this).
    </p>
  );
}
