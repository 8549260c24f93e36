"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";

/** Where checkpoints may be registered from (MERGESCOPE_MODEL_ROOTS), and the models of the local Hugging Face cache. */
export function AllowedRoots() {
  const trpc = useTRPC();
  const refetchAfterWrite = useRefetchAfterWrite();
  const roots = useQuery(trpc.models.roots.queryOptions());
  const register = useMutation(trpc.models.register.mutationOptions({ onSuccess: () => refetchAfterWrite(trpc.models.pathKey()) }));
  if (roots.isPending) return <p className="hint" role="status">Loading the allowed model roots…</p>;
  if (roots.isError) return <ErrorAlert error={roots.error} prefix="Could not load the allowed model roots:" />;
  const hf = roots.data.hfCache;
  return (
    <div className="stack">
      <p className="hint" data-testid="allowed-roots">
        Checkpoints can be registered from{" "}
        {roots.data.roots.map((r, i) => (
          <span key={r.path}>
            {i > 0 ? ", " : null}
            <code>{r.path}</code>
            {r.exists ? null : " (missing)"}
          </span>
        ))}{" "}
        (set <code>MERGESCOPE_MODEL_ROOTS</code>, colon-separated, to change this).{" "}
        {hf.allowed ? (
          <>The Hugging Face cache <code>{hf.path}</code> lies inside them: models can be registered by id.</>
        ) : (
          <>
            The Hugging Face cache <code>{hf.path}</code> is not inside them; add it to <code>MERGESCOPE_MODEL_ROOTS</code> to register cached
            models by id.
          </>
        )}
      </p>
      {hf.allowed && hf.models.length > 0 ? (
        <section aria-label="Models in the Hugging Face cache" data-testid="hf-cache-models">
          <h3>In the Hugging Face cache</h3>
          <ul className="hf-cache-list">
            {hf.models.flatMap((m) =>
              m.revisions.map((rev) => {
                const ref = rev === "main" ? m.id : `${m.id}@${rev}`;
                return (
                  <li key={ref}>
                    <code>{ref}</code>{" "}
                    <button type="button" className="btn btn-small" onClick={() => register.mutate({ path: ref })} disabled={register.isPending} aria-label={`Register ${ref}`}>
                      Register
                    </button>
                  </li>
                );
              }),
            )}
          </ul>
          {register.isError ? <ErrorAlert error={register.error} /> : null}
          {register.isSuccess ? <p role="status">Registered {register.data.model.name}.</p> : null}
        </section>
      ) : null}
    </div>
  );
}
