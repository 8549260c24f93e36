"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";
import { hasRole, ROLES, type Role } from "@/server/services/auth/roles";
import { RoleSelect } from "./role-select";
import { useSessionUser } from "./session-context";

const when = (d: Date | null) => (d ? new Date(d).toLocaleString() : "—");

/** Personal API tokens for the CLI (`mergescope login`, MERGESCOPE_TOKEN): create (shown once), list, revoke. */
export function TokensPanel() {
  const trpc = useTRPC();
  const me = useSessionUser();
  const tokens = useQuery(trpc.account.tokens.list.queryOptions());
  const refetchAfterWrite = useRefetchAfterWrite();
  const refetch = () => refetchAfterWrite(trpc.account.tokens.list.queryKey());
  const create = useMutation(trpc.account.tokens.create.mutationOptions({ onSuccess: refetch }));
  const revoke = useMutation(trpc.account.tokens.revoke.mutationOptions({ onSuccess: refetch }));
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>(me?.role ?? "viewer");
  const [days, setDays] = useState("90");
  const ids = { name: useId(), role: useId(), days: useId() };
  const allowed = ROLES.filter((r) => me && hasRole(me.role, r));

  return (
    <section className="card" aria-labelledby="tokens-title" data-testid="tokens-panel">
      <h2 id="tokens-title">Personal API tokens</h2>
      <p className="hint">
        For the command line and scripts: <code>mergescope login --server {typeof window === "undefined" ? "URL" : window.location.origin}</code> and paste the token, or set{" "}
        <code>MERGESCOPE_TOKEN</code>. A token acts with its role, never more than yours; revoke it here when it is no longer needed.
      </p>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({ name, role, expiresInDays: days ? Number(days) : null });
        }}
      >
        <div className="field field-grow">
          <label htmlFor={ids.name}>Name</label>
          <input id={ids.name} type="text" required maxLength={32} placeholder="e.g. laptop CLI" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.role}>Role</label>
          <RoleSelect id={ids.role} value={role} onChange={setRole} roles={allowed} />
        </div>
        <div className="field">
          <label htmlFor={ids.days}>Expires after (days)</label>
          <select id={ids.days} value={days} onChange={(e) => setDays(e.target.value)}>
            <option value="30">30</option>
            <option value="90">90</option>
            <option value="365">365</option>
            <option value="">never</option>
          </select>
        </div>
        <div className="field">
          <button type="submit" className="btn btn-primary" disabled={create.isPending}>
            Create token
          </button>
        </div>
      </form>
      {create.data ? (
        <div className="alert alert-ok" role="status">
          <p>
            Token <strong>{create.data.name}</strong> ({create.data.role}). Copy it now: it is not shown again.
          </p>
          <p className="secret-once" data-testid="new-token">
            {create.data.token}
          </p>
        </div>
      ) : null}
      {create.isError ? <ErrorAlert error={create.error} /> : null}
      {revoke.isError ? <ErrorAlert error={revoke.error} /> : null}
      {tokens.data && tokens.data.length > 0 ? (
        <table className="table" data-testid="tokens-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Starts with</th>
              <th scope="col">Role</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">Created</th>
              <th scope="col"></th>
            </tr>
          </thead>
          <tbody>
            {tokens.data.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>
                  <code>{t.start}…</code>
                </td>
                <td>{t.role}</td>
                <td>{t.expiresAt ? when(t.expiresAt) : "never"}</td>
                <td>{when(t.lastUsedAt)}</td>
                <td>{when(t.createdAt)}</td>
                <td>
                  <button type="button" className="btn btn-small btn-danger" onClick={() => revoke.mutate({ id: t.id })} aria-label={`Revoke token ${t.name}`}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">No tokens.</p>
      )}
    </section>
  );
}
