"use client";

import { useMutation } from "@tanstack/react-query";
import { useId, useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import type { BuilderSettings } from "@/server/services/builder/schemas";
import { RecipeIssues } from "./recipe-issues";

/** Paste a mergekit recipe: parsed on the server, it fills the form; errors keep their YAML path. */
export function YamlImport({ onLoad }: { onLoad: (s: BuilderSettings) => void }) {
  const trpc = useTRPC();
  const id = useId();
  const [text, setText] = useState("");
  const parse = useMutation(
    trpc.builder.parseYaml.mutationOptions({
      onSuccess: (r) => {
        if (r.ok && r.settings) onLoad(r.settings);
      },
    }),
  );
  return (
    <section className="card stack" aria-labelledby={`${id}-title`} data-testid="yaml-import">
      <h2 id={`${id}-title`}>Paste a mergekit recipe</h2>
      <div className="field">
        <label htmlFor={`${id}-yaml`}>Recipe YAML</label>
        <textarea
          id={`${id}-yaml`}
          rows={8}
          value={text}
          onChange={(e) => setText(e.target.value)}
          spellCheck={false}
          placeholder={"merge_method: ties\nbase_model: /data/models/base\nmodels:\n  - model: /data/models/sft\n    parameters: { weight: 1.0, density: 0.2 }"}
        />
        <p className="hint">Model paths must be registered models; relative paths resolve against the first allowed model root.</p>
      </div>
      <div className="btn-row">
        <button type="button" className="btn" onClick={() => parse.mutate({ yaml: text })} disabled={parse.isPending || text.trim() === ""}>
          {parse.isPending ? "Reading…" : "Load into the form"}
        </button>
      </div>
      {parse.isError ? <ErrorAlert error={parse.error} /> : null}
      {parse.data && !parse.data.ok ? (
        <>
          <p className="alert alert-error" role="alert">The recipe was not loaded:</p>
          <RecipeIssues issues={parse.data.issues} testId="yaml-issue" />
        </>
      ) : null}
      {parse.data?.ok ? (
        <p className="alert alert-ok" role="status" data-testid="yaml-loaded">
          Loaded into the form{parse.data.settings?.experimentId ? " (its experiment is selected)" : ""}.
          {parse.data.notes.map((n) => (
            <span key={n} className="hint" style={{ display: "block" }}>Note: {n}</span>
          ))}
        </p>
      ) : null}
    </section>
  );
}
