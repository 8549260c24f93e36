"use client";

import { useMutation } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { formatTokens } from "@/components/common/format";
import { MODEL_ROLES, ROLE_LABELS, TOKEN_ROLES, type ModelRole } from "@/components/common/roles";
import { LanguageInput, languageProblem } from "@/components/common/language-input";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";

/** Register one checkpoint directory; everything else is detected from its files. */
export function RegisterModelForm() {
  const trpc = useTRPC();
  const refetchAfterWrite = useRefetchAfterWrite();
  const id = useId();
  const [path, setPath] = useState("");
  const [role, setRole] = useState<ModelRole | "">("");
  const [name, setName] = useState("");
  const [language, setLanguage] = useState("");
  const [tokens, setTokens] = useState("");
  const register = useMutation(
    trpc.models.register.mutationOptions({
      onSuccess: () => refetchAfterWrite(trpc.models.pathKey()),
    }),
  );

  function submit(e: FormEvent) {
    e.preventDefault();
    register.mutate({
      path: path.trim(),
      ...(role ? { role } : {}),
      ...(name.trim() ? { name: name.trim() } : {}),
      ...(language.trim() ? { language: language.trim() } : {}),
      ...(tokens.trim() ? { ctTokens: tokens.trim() } : {}),
    });
  }

  const showTokens = role === "" || TOKEN_ROLES.includes(role);
  const result = register.data;
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby={`${id}-title`} data-testid="register-model-form">
      <h2 id={`${id}-title`}>Register a checkpoint</h2>
      <div className="field">
        <label htmlFor={`${id}-path`}>Model directory (absolute path) or Hugging Face id</label>
        <input id={`${id}-path`} type="text" required value={path} onChange={(e) => setPath(e.target.value)} placeholder="/data/models/llama-2-7b or org/name@main" spellCheck={false} />
        <p className="hint">
          Architecture, parameters, dtype, vocabulary, shards and size are read from the files. An id such as org/name (or org/name@revision) is
          looked up offline in the local Hugging Face cache.
        </p>
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor={`${id}-role`}>Role</label>
          <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.target.value as ModelRole | "")}>
            <option value="">Detect automatically</option>
            {MODEL_ROLES.map((r) => (
              <option key={r} value={r}>{ROLE_LABELS[r]}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-lang`}>Language</label>
          <LanguageInput id={`${id}-lang`} value={language} onChange={setLanguage} size={8} />
        </div>
        {showTokens ? (
          <div className="field">
            <label htmlFor={`${id}-tokens`}>CT tokens</label>
            <input id={`${id}-tokens`} type="text" value={tokens} onChange={(e) => setTokens(e.target.value)} placeholder="auto, or 2B" size={10} />
          </div>
        ) : null}
        <div className="field field-grow">
          <label htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="the directory name" />
        </div>
      </div>
      {showTokens ? (
        <p className="hint">
          CT tokens: left empty, read from trainer_state.json or the directory name (ct-2B, checkpoint-12.4B). Language: left empty, the FLORES-style code
          (xka_Geor) trainer_state.json or config.json names most often.
        </p>
      ) : null}
      <div className="btn-row">
        <button type="submit" className="btn btn-primary" disabled={register.isPending || path.trim() === "" || languageProblem(language) !== null}>
          {register.isPending ? "Registering…" : "Register"}
        </button>
      </div>
      {register.isError ? <ErrorAlert error={register.error} testId="register-error" prefix="Not registered:" /> : null}
      {result && !register.isError ? (
        <div className="alert alert-ok" role="status" data-testid="register-result">
          Registered <strong>{result.model.name}</strong> as {result.model.role}
          {result.model.ctTokens !== null ? ` with ${formatTokens(result.model.ctTokens)} CT tokens (from ${result.tokensSource})` : ""}
          {result.model.language ? `, language ${result.model.language}${result.languageSource && result.languageSource !== "entered" ? ` (from ${result.languageSource}; edit the model to change it)` : ""}` : ""}.
          {result.warnings.map((w) => (
            <div key={w} className="hint">Note: {w}</div>
          ))}
        </div>
      ) : null}
    </form>
  );
}
