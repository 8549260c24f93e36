"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";

const when = (d: Date | null) => (d ? new Date(d).toLocaleString() : "—");

/** The public links you made (admins: everyone's), with revocation. */
export function PublicLinksPanel() {
  const trpc = useTRPC();
  const links = useQuery(trpc.views.publicLinks.list.queryOptions());
  const refetchAfterWrite = useRefetchAfterWrite();
  const revoke = useMutation(trpc.views.publicLinks.revoke.mutationOptions({ onSuccess: () => refetchAfterWrite(trpc.views.publicLinks.list.queryKey()) }));
  return (
    <section className="card" aria-labelledby="links-title" data-testid="public-links-panel">
      <h2 id="links-title">Public view links</h2>
      <p className="hint">Anyone with one of these links sees that view&apos;s charts and tables, without an account, until it is revoked or expires. Make one from an analysis view&apos;s share bar.</p>
      {links.isError ? <ErrorAlert error={links.error} /> : null}
      {revoke.isError ? <ErrorAlert error={revoke.error} /> : null}
      {links.data && links.data.length > 0 ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">View</th>
              <th scope="col">Made by</th>
              <th scope="col">Expires</th>
              <th scope="col">Last opened</th>
              <th scope="col"></th>
            </tr>
          </thead>
          <tbody>
            {links.data.map((l) => (
              <tr key={l.id}>
                <td>
                  <Link href={`/v/${l.viewId}`}>/v/{l.viewId}</Link>
                </td>
                <td>{l.createdBy ?? "—"}</td>
                <td>{l.expiresAt ? `${when(l.expiresAt)}${l.expired ? " (expired)" : ""}` : "never"}</td>
                <td>{when(l.lastUsedAt)}</td>
                <td>
                  <button type="button" className="btn btn-small btn-danger" onClick={() => revoke.mutate({ id: l.id })} aria-label={`Revoke the public link to /v/${l.viewId}`}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">No public links.</p>
      )}
    </section>
  );
}
