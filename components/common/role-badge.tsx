/** A model's role; the text carries the meaning, the colour (Okabe–Ito) only helps. */
export function RoleBadge({ role }: { role: string }) {
  return (
    <span className={`role role-${role.toLowerCase()}`} data-role={role}>
      {role}
    </span>
  );
}
