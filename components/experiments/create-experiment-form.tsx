"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useId, useMemo, useState, type FormEvent } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";
import { LanguageInput, languageProblem } from "@/components/common/language-input";
import { catalogueLanguage, hasBuiltInName, languageKey } from "@/server/services/languages/codes";
import { ModelChecklist } from "./model-checklist";
import { ModelSelect } from "./model-select";

function matchesLanguage(modelLanguage: string | null, language: string): boolean {
  return !language.trim() || !modelLanguage || catalogueLanguage(modelLanguage) === catalogueLanguage(language);
}

/** Base + SFT + a CT series (+ CTSFT series and extra models) for one target language. */
export function CreateExperimentForm() {
  const trpc = useTRPC();
  const refetchAfterWrite = useRefetchAfterWrite();
  const router = useRouter();
  const id = useId();
  const models = useQuery(trpc.models.list.queryOptions({}));
  const [name, setName] = useState("");
  const [language, setLanguage] = useState("");
  const [languageName, setLanguageName] = useState("");
  const [description, setDescription] = useState("");
  const [baseId, setBaseId] = useState("");
  const [sftId, setSftId] = useState("");
  const [ctIds, setCtIds] = useState<string[]>([]);
  const [ctsftIds, setCtsftIds] = useState<string[]>([]);
  const [extraIds, setExtraIds] = useState<string[]>([]);
  const create = useMutation(
    trpc.experiments.create.mutationOptions({
      onSuccess: async (e) => {
        await refetchAfterWrite(trpc.experiments.pathKey());
        router.push(`/experiments/${e.id}`);
      },
    }),
  );

  const all = models.data ?? [];
  const byRole = useMemo(() => {
    const of = (...roles: string[]) => all.filter((m) => roles.includes(m.role));
    return {
      base: of("BASE"),
      sft: of("SFT"),
      ct: of("CT").filter((m) => matchesLanguage(m.language, language)),
      ctsft: of("CTSFT").filter((m) => matchesLanguage(m.language, language)),
      extra: of("MERGED", "OTHER"),
    };
  }, [all, language]);
  // Ticked checkpoints hidden by a language change are not submitted.
  const visible = (ids: string[], list: { id: string }[]) => ids.filter((x) => list.some((m) => m.id === x));
  const cts = visible(ctIds, byRole.ct);
  const languageOk = languageProblem(language, true) === null;
  // A language the built-in tables do not name (xka) may be given its name once, here.
  const askName = languageOk && !hasBuiltInName(languageKey(language));
  const ready = name.trim() && languageOk && baseId && sftId && cts.length > 0;

  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate({
      name: name.trim(),
      language: language.trim(),
      languageName: askName && languageName.trim() ? languageName.trim() : null,
      description: description.trim() || null,
      baseModelId: baseId,
      sftModelId: sftId,
      ctModelIds: cts,
      ctsftModelIds: visible(ctsftIds, byRole.ctsft),
      extraModelIds: visible(extraIds, byRole.extra),
    });
  }

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby={`${id}-title`} data-testid="create-experiment-form">
      <h2 id={`${id}-title`}>New experiment</h2>
      {models.isPending ? (
        <p role="status" className="muted">Loading models…</p>
      ) : models.isError ? (
        <ErrorAlert error={models.error} prefix="Could not load the models:" />
      ) : all.length === 0 ? (
        <p className="empty">
          No models registered yet. <Link href="/models">Register the base, SFT and CT checkpoints</Link> first.
        </p>
      ) : (
        <>
          <div className="row">
            <div className="field field-grow">
              <label htmlFor={`${id}-name`}>Name</label>
              <input id={`${id}-name`} type="text" required value={name} onChange={(e) => setName(e.target.value)} placeholder="Llama-2 7B → Nepali" />
            </div>
            <div className="field">
              <label htmlFor={`${id}-lang`}>Target language</label>
              <LanguageInput id={`${id}-lang`} value={language} onChange={setLanguage} required />
            </div>
            {askName ? (
              <div className="field">
                <label htmlFor={`${id}-lang-name`}>Language name (optional)</label>
                <input id={`${id}-lang-name`} type="text" value={languageName} onChange={(e) => setLanguageName(e.target.value)} placeholder="e.g. Mingrelian" size={16} />
              </div>
            ) : null}
          </div>
          <div className="row">
            <ModelSelect id={`${id}-base`} label="Base model" models={byRole.base} value={baseId} onChange={setBaseId} placeholder={byRole.base.length ? "Choose the base model" : "No BASE model registered"} required />
            <ModelSelect id={`${id}-sft`} label="SFT model" models={byRole.sft} value={sftId} onChange={setSftId} placeholder={byRole.sft.length ? "Choose the SFT model" : "No SFT model registered"} required />
          </div>
          <ModelChecklist
            legend="CT checkpoints (continual pre-training on the target language)"
            models={byRole.ct}
            selected={cts}
            onChange={setCtIds}
            empty="No CT checkpoint registered for this language: register a folder of CT checkpoints on the Models page."
            testId="ct-checklist"
          />
          <ModelChecklist legend="CTSFT checkpoints (optional)" models={byRole.ctsft} selected={visible(ctsftIds, byRole.ctsft)} onChange={setCtsftIds} empty="None registered." />
          <ModelChecklist legend="Extra models (optional)" models={byRole.extra} selected={visible(extraIds, byRole.extra)} onChange={setExtraIds} empty="No MERGED or OTHER models registered." />
          <div className="field">
            <label htmlFor={`${id}-desc`}>Description (optional)</label>
            <textarea id={`${id}-desc`} rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
          </div>
          <div className="btn-row">
            <button type="submit" className="btn btn-primary" disabled={!ready || create.isPending}>
              {create.isPending ? "Creating…" : "Create experiment"}
            </button>
            {!ready ? <span className="hint">Needs a name, a language code (3 letters, optionally with its script: xka_Geor), the base and SFT models and at least one CT checkpoint.</span> : null}
          </div>
          {create.isError ? <ErrorAlert error={create.error} testId="create-experiment-error" prefix="Not created:" /> : null}
        </>
      )}
    </form>
  );
}
