"use client";

import { createContext, useContext, type ReactNode } from "react";
import { hasRole, type Role } from "@/server/services/auth/roles";
import type { UserSummary } from "@/server/services/auth/schemas";

const SessionContext = createContext<UserSummary | null>(null);

export function SessionProvider({ user, children }: { user: UserSummary | null; children: ReactNode }) {
  return <SessionContext.Provider value={user}>{children}</SessionContext.Provider>;
}

/** The signed-in user (null on public pages). */
export function useSessionUser(): UserSummary | null {
  return useContext(SessionContext);
}

/** Whether the signed-in user has at least this role (the server checks again on every call). */
export function useHasRole(role: Role): boolean {
  const user = useSessionUser();
  return !!user && hasRole(user.role, role);
}
