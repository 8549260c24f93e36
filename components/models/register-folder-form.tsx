"use client";

import { useMutation } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { LanguageInput, languageProblem } from "@/components/common/language-input";
import { FolderResults } from "./folder-results";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";

/** Register every checkpoint subdirectory of a folder as a CT (or CTSFT) series. */
export function RegisterFolderForm() {
  const trpc = useTRPC();
  const refetchAfterWrite = useRefetchAfterWrite();
  const id = useId();
  const [path, setPath] = useState("");
  const [role, setRole] = useState<"CT" | "CTSFT">("CT");
  const [language, setLanguage] = useState("");
  const [perStep, setPerStep] = useState("");
  const register = useMutation(
    trpc.models.registerFolder.mutationOptions({
      onSuccess: () => refetchAfterWrite(trpc.models.pathKey()),
    }),
  );
  const perStepNumber = perStep.trim() === "" ? null : Number(perStep);
  const perStepInvalid = perStepNumber !== null && !(Number.isInteger(perStepNumber) && perStepNumber > 0);

  function submit(e: FormEvent) {
    e.preventDefault();
    register.mutate({
      path: path.trim(),
      role,
      ...(language.trim() ? { language: language.trim() } : {}),
      ...(perStepNumber !== null && !perStepInvalid ? { tokensPerStep: perStepNumber } : {}),
    });
  }

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby={`${id}-title`} data-testid="register-folder-form">
      <h2 id={`${id}-title`}>Register a folder of CT checkpoints</h2>
      <div className="field">
        <label htmlFor={`${id}-path`}>Folder (absolute path)</label>
        <input id={`${id}-path`} type="text" required value={path} onChange={(e) => setPath(e.target.value)} placeholder="/data/models/nepali-ct" spellCheck={false} />
        <p className="hint">Each subdirectory holding safetensors weights becomes one checkpoint; failures are listed per subdirectory.</p>
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor={`${id}-role`}>Role</label>
          <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.target.value as "CT" | "CTSFT")}>
            <option value="CT">CT</option>
            <option value="CTSFT">CTSFT</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-lang`}>Language</label>
          <LanguageInput id={`${id}-lang`} value={language} onChange={setLanguage} size={8} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-step`}>Tokens per step</label>
          <input
            id={`${id}-step`}
            type="number"
            min={1}
            step={1}
            value={perStep}
            onChange={(e) => setPerStep(e.target.value)}
            aria-invalid={perStepInvalid}
            aria-describedby={`${id}-step-hint`}
            style={{ width: "10rem" }}
          />
        </div>
      </div>
      <p className="hint" id={`${id}-step-hint`}>
        Optional: batch size × sequence length, to turn trainer_state.json&apos;s global_step into tokens when num_input_tokens_seen is missing.
      </p>
      <div className="btn-row">
        <button type="submit" className="btn btn-primary" disabled={register.isPending || path.trim() === "" || perStepInvalid || languageProblem(language) !== null}>
          {register.isPending ? "Registering…" : "Register folder"}
        </button>
      </div>
      {register.isError ? <ErrorAlert error={register.error} testId="register-folder-error" prefix="Folder not registered:" /> : null}
      {register.data && !register.isError ? <FolderResults result={register.data} /> : null}
    </form>
  );
}
