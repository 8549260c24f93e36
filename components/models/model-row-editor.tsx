"use client";

import { useMutation } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { formatTokens } from "@/components/common/format";
import { MODEL_ROLES, TOKEN_ROLES, type ModelRole } from "@/components/common/roles";
import { LanguageInput, languageProblem } from "@/components/common/language-input";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";
import type { ModelSummary } from "@/server/services/models/schemas";

/** Edit a model's name, role, language and CT tokens in place. */
export function ModelRowEditor({ model: m, onDone }: { model: ModelSummary; onDone: () => void }) {
  const trpc = useTRPC();
  const refetchAfterWrite = useRefetchAfterWrite();
  const id = useId();
  const [name, setName] = useState(m.name);
  const [role, setRole] = useState<ModelRole>(m.role);
  const [language, setLanguage] = useState(m.language ?? "");
  const [tokens, setTokens] = useState(m.ctTokens !== null ? formatTokens(m.ctTokens) : "");
  const update = useMutation(
    trpc.models.update.mutationOptions({
      onSuccess: async () => {
        await refetchAfterWrite(trpc.models.pathKey());
        onDone();
      },
    }),
  );
  const tokenRole = TOKEN_ROLES.includes(role);

  function submit(e: FormEvent) {
    e.preventDefault();
    update.mutate({
      id: m.id,
      name: name.trim(),
      role,
      // Sent only when changed: a model registered with an older 2-letter code stays editable.
      ...(language.trim() !== (m.language ?? "") ? { language: language.trim() || null } : {}),
      ...(tokenRole ? { ctTokens: tokens.trim() || null } : {}),
    });
  }

  return (
    <tr data-testid="model-row-editor" data-name={m.name}>
      <td colSpan={10}>
        <form onSubmit={submit} className="stack" aria-label={`Edit ${m.name}`}>
          <div className="row">
            <div className="field field-grow">
              <label htmlFor={`${id}-name`}>Name</label>
              <input id={`${id}-name`} type="text" value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
            </div>
            <div className="field">
              <label htmlFor={`${id}-role`}>Role</label>
              <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.target.value as ModelRole)}>
                {MODEL_ROLES.map((r) => (
                  <option key={r} value={r}>{r}</option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${id}-lang`}>Language</label>
              <LanguageInput id={`${id}-lang`} value={language} onChange={setLanguage} size={8} />
            </div>
            {tokenRole ? (
              <div className="field">
                <label htmlFor={`${id}-tokens`}>CT tokens</label>
                <input id={`${id}-tokens`} type="text" value={tokens} onChange={(e) => setTokens(e.target.value)} placeholder="2B" size={10} />
              </div>
            ) : null}
            <div className="btn-row">
              <button type="submit" className="btn btn-primary" disabled={update.isPending || name.trim() === "" || (language.trim() !== (m.language ?? "") && languageProblem(language) !== null)}>Save</button>
              <button type="button" className="btn" onClick={onDone}>Cancel</button>
            </div>
          </div>
          {update.isError ? <ErrorAlert error={update.error} prefix="Not saved:" /> : null}
        </form>
      </td>
    </tr>
  );
}
