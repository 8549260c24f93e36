"use client";

import { useHasRole } from "@/components/auth/session-context";
import { UsersPanel } from "@/components/auth/users-panel";
import { EvalTemplatesPanel } from "@/components/scores/eval-templates-panel";

export default function AdminPage() {
  const admin = useHasRole("admin");
  if (!admin)
    return (
      <p className="alert alert-warn" role="alert">
        The Admin page is for admins. Ask one of them if you need a role change.
      </p>
    );
  return (
    <>
      <h1>Admin</h1>
      <p className="lead">Accounts and roles (viewer reads, researcher also queues work and imports, admin also manages this page), invitations, and evaluation commands.</p>
      <UsersPanel />
      <EvalTemplatesPanel />
    </>
  );
}
