import { MODEL_ROLES } from "@/components/common/roles";
import type { ModelSummary } from "@/server/services/models/schemas";

/** <option>s for every registered model, grouped by role. */
export function ModelOptions({ models }: { models: ModelSummary[] }) {
  return (
    <>
      {MODEL_ROLES.map((role) => {
        const of = models.filter((m) => m.role === role);
        if (of.length === 0) return null;
        return (
          <optgroup key={role} label={role}>
            {of.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
                {m.language ? ` (${m.language})` : ""}
              </option>
            ))}
          </optgroup>
        );
      })}
    </>
  );
}
