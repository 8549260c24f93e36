"use client";

import Link from "next/link";
import { useState } from "react";
import type { UserSummary } from "@/server/services/auth/schemas";
import { authClient } from "./auth-client";

/** Who is signed in, their pages, and sign-out. */
export function AccountMenu({ user }: { user: UserSummary }) {
  const [leaving, setLeaving] = useState(false);
  const signOut = async () => {
    setLeaving(true);
    await authClient.signOut().catch(() => {});
    window.location.assign("/login");
  };
  return (
    <details className="account-menu" data-testid="account-menu">
      <summary aria-label={`Account: ${user.name}`}>
        {user.name} <span className={`badge role-badge role-badge-${user.role}`}>{user.role}</span>
      </summary>
      <div className="account-menu-panel">
        <p className="muted">{user.email}</p>
        <Link href="/account">Account &amp; API tokens</Link>
        {user.role === "admin" ? <Link href="/admin">Admin</Link> : null}
        <button type="button" className="btn btn-small" onClick={signOut} disabled={leaving}>
          {leaving ? "Signing out…" : "Sign out"}
        </button>
      </div>
    </details>
  );
}
