"use client";

import { PublicLinksPanel } from "@/components/auth/public-links-panel";
import { useHasRole, useSessionUser } from "@/components/auth/session-context";
import { TokensPanel } from "@/components/auth/tokens-panel";
import { ROLE_DESCRIPTIONS } from "@/server/services/auth/roles";

export default function AccountPage() {
  const me = useSessionUser();
  const researcher = useHasRole("researcher");
  if (!me) return null;
  return (
    <>
      <h1>Account</h1>
      <table className="kv">
        <tbody>
          <tr>
            <th scope="row">Name</th>
            <td>{me.name}</td>
          </tr>
          <tr>
            <th scope="row">Email</th>
            <td>{me.email}</td>
          </tr>
          <tr>
            <th scope="row">Role</th>
            <td data-testid="my-role">
              {me.role} — {ROLE_DESCRIPTIONS[me.role]}
            </td>
          </tr>
        </tbody>
      </table>
      <TokensPanel />
      {researcher ? <PublicLinksPanel /> : null}
    </>
  );
}
