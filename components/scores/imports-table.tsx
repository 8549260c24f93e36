"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { ErrorAlert } from "@/components/common/error-alert";
import { formatDate } from "@/components/common/format";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";

/** Imported results files (one per sha256), with their warnings; removing one removes its scores. */
export function ImportsTable() {
  const trpc = useTRPC();
  const refetchAfterWrite = useRefetchAfterWrite();
  const q = useQuery(trpc.scores.imports.queryOptions());
  const remove = useMutation(trpc.scores.deleteImport.mutationOptions({ onSuccess: () => refetchAfterWrite(trpc.scores.pathKey()) }));
  if (!q.data || q.data.length === 0) return null;
  return (
    <section className="card" aria-labelledby="imports-title">
      <h2 id="imports-title">Imported files</h2>
      {remove.isError && <ErrorAlert error={remove.error} />}
      <div className="table-wrap">
        <table className="data" data-testid="imports-table">
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Model in the file</th>
              <th scope="col" className="num">
                Scores
              </th>
              <th scope="col">Split option</th>
              <th scope="col">Imported</th>
              <th scope="col">sha256</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {q.data.map((i) => (
              <tr key={i.sourceHash}>
                <td>
                  {i.sourceFile}
                  {i.jobId && <span className="muted"> (job {i.jobId.slice(-6)})</span>}
                  {i.warnings.length > 0 && (
                    <details>
                      <summary>{i.warnings.length} warning(s)</summary>
                      <ul>
                        {i.warnings.map((w) => (
                          <li key={w}>{w}</li>
                        ))}
                      </ul>
                    </details>
                  )}
                </td>
                <td className="path">{i.modelName}</td>
                <td className="num">{i.scoreCount}</td>
                <td>{i.splitOption ?? "inferred"}</td>
                <td>{formatDate(i.updatedAt)}</td>
                <td className="path" title={i.sourceHash}>
                  {i.sourceHash.slice(0, 12)}
                </td>
                <td>
                  <button type="button" className="btn btn-small btn-danger" onClick={() => remove.mutate({ sourceHash: i.sourceHash })} aria-label={`Remove ${i.sourceFile} and its scores`}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
