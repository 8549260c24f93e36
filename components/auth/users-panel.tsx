"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";
import type { Role } from "@/server/services/auth/roles";
import { RoleSelect } from "./role-select";
import { useSessionUser } from "./session-context";

/** Admins: accounts (role, block, remove) and invitations (one-time sign-in links with a role). */
export function UsersPanel() {
  const trpc = useTRPC();
  const me = useSessionUser();
  const users = useQuery(trpc.admin.users.list.queryOptions());
  const invites = useQuery(trpc.admin.invites.list.queryOptions());
  const refetchAfterWrite = useRefetchAfterWrite();
  const refetch = async () => {
    await refetchAfterWrite(trpc.admin.users.list.queryKey());
    await refetchAfterWrite(trpc.admin.invites.list.queryKey());
  };
  const setRole = useMutation(trpc.admin.users.setRole.mutationOptions({ onSuccess: refetch }));
  const setBlocked = useMutation(trpc.admin.users.setBlocked.mutationOptions({ onSuccess: refetch }));
  const remove = useMutation(trpc.admin.users.remove.mutationOptions({ onSuccess: refetch }));
  const invite = useMutation(trpc.admin.invites.create.mutationOptions({ onSuccess: refetch }));
  const revokeInvite = useMutation(trpc.admin.invites.revoke.mutationOptions({ onSuccess: refetch }));
  const [email, setEmail] = useState("");
  const [role, setInviteRole] = useState<Role>("researcher");
  const ids = { email: useId(), role: useId() };
  const error = setRole.error ?? setBlocked.error ?? remove.error ?? revokeInvite.error;

  return (
    <>
      <section className="card" aria-labelledby="users-title" data-testid="users-panel">
        <h2 id="users-title">Users</h2>
        {error ? <ErrorAlert error={error} /> : null}
        {users.isError ? <ErrorAlert error={users.error} /> : null}
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Signs in with</th>
              <th scope="col">Tokens</th>
              <th scope="col"></th>
            </tr>
          </thead>
          <tbody>
            {users.data?.map((u) => (
              <tr key={u.id} data-testid="user-row" data-email={u.email}>
                <td>
                  {u.name} {u.banned ? <span className="badge badge-bad">blocked</span> : null}
                </td>
                <td>{u.email}</td>
                <td>
                  <RoleSelect label={`Role of ${u.email}`} value={u.role} onChange={(r) => setRole.mutate({ userId: u.id, role: r })} />
                </td>
                <td>{u.signInMethods.join(", ") || "—"}</td>
                <td>{u.tokens}</td>
                <td className="actions">
                  {u.id !== me?.id ? (
                    <>
                      <button type="button" className="btn btn-small" onClick={() => setBlocked.mutate({ userId: u.id, blocked: !u.banned })}>
                        {u.banned ? "Unblock" : "Block"}
                      </button>
                      <button
                        type="button"
                        className="btn btn-small btn-danger"
                        onClick={() => {
                          if (window.confirm(`Remove the account of ${u.email}? Its sessions and tokens end; what it created stays.`)) remove.mutate({ userId: u.id });
                        }}
                      >
                        Remove
                      </button>
                    </>
                  ) : (
                    <span className="muted">you</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card" aria-labelledby="invite-title" data-testid="invite-panel">
        <h2 id="invite-title">Invite someone</h2>
        <p className="hint">Makes a one-time sign-in link (valid 3 days): whoever opens it chooses a password and gets the role. Send it privately.</p>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            invite.mutate({ email: email || null, role });
          }}
        >
          <div className="field field-grow">
            <label htmlFor={ids.email}>Email (optional)</label>
            <input id={ids.email} type="email" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="they enter it themselves when empty" />
          </div>
          <div className="field">
            <label htmlFor={ids.role}>Role</label>
            <RoleSelect id={ids.role} value={role} onChange={setInviteRole} />
          </div>
          <div className="field">
            <button type="submit" className="btn btn-primary" disabled={invite.isPending}>
              Make sign-in link
            </button>
          </div>
        </form>
        {invite.data ? (
          <div className="alert alert-ok" role="status">
            <p>One-time sign-in link (shown once):</p>
            <p className="secret-once" data-testid="invite-link">
              {invite.data.url}
            </p>
          </div>
        ) : null}
        {invite.isError ? <ErrorAlert error={invite.error} /> : null}
        {invites.data && invites.data.length > 0 ? (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Open invitation</th>
                <th scope="col">Role</th>
                <th scope="col">Expires</th>
                <th scope="col">By</th>
                <th scope="col"></th>
              </tr>
            </thead>
            <tbody>
              {invites.data.map((i) => (
                <tr key={i.id}>
                  <td>{i.email ?? <span className="muted">anyone with the link</span>}</td>
                  <td>{i.role}</td>
                  <td>{new Date(i.expiresAt).toLocaleString()}</td>
                  <td>{i.createdBy ?? "the server"}</td>
                  <td>
                    <button type="button" className="btn btn-small btn-danger" onClick={() => revokeInvite.mutate({ id: i.id })}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
    </>
  );
}
