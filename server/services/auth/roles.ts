// The three roles, from least to most. A role includes every right of the
// roles below it. No server imports: the UI uses this module too.
import { z } from "zod";

export const ROLES = ["viewer", "researcher", "admin"] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES);

export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  viewer: "reads every page and link",
  researcher: "also registers models, queues merges, analyses, sweeps, evaluations and imports",
  admin: "also manages users, evaluation command templates and the task catalogue reset",
};

export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

/** Whether `role` includes the rights of `needed`. */
export function hasRole(role: Role, needed: Role): boolean {
  return roleRank(role) >= roleRank(needed);
}

/** The lesser of two roles (a token's scope is capped by its owner's current role). */
export function minRole(a: Role, b: Role): Role {
  return roleRank(a) <= roleRank(b) ? a : b;
}

/** A stored role string; anything unknown counts as the least role. */
export function parseRole(value: unknown): Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value) ? (value as Role) : "viewer";
}
