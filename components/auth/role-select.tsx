"use client";

import { ROLES, type Role } from "@/server/services/auth/roles";

/** A <select> of roles (all, or those given). */
export function RoleSelect({ value, onChange, roles = ROLES, id, label }: { value: Role; onChange: (r: Role) => void; roles?: readonly Role[]; id?: string; label?: string }) {
  return (
    <select id={id} aria-label={label} value={value} onChange={(e) => onChange(e.target.value as Role)}>
      {roles.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
  );
}
