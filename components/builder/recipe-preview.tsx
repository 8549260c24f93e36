"use client";

import { useState } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import type { PreviewResult } from "@/server/services/builder/schemas";
import { RecipeIssues } from "./recipe-issues";

function download(text: string, fileName: string) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/yaml" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The recipe as mergekit YAML (built and validated on the server), with copy and download. */
export function RecipePreview({
  preview,
  pending,
  error,
  stale,
}: {
  preview: PreviewResult | undefined;
  pending: boolean;
  error: unknown;
  stale: boolean;
}) {
  const [copied, setCopied] = useState<"ok" | "failed" | null>(null);
  async function copy(text: string) {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("ok");
    } catch {
      setCopied("failed");
    }
  }
  return (
    <section className="card" aria-labelledby="recipe-title" data-testid="recipe-preview" aria-busy={pending || stale}>
      <div className="page-head">
        <h2 id="recipe-title">Recipe (mergekit YAML)</h2>
        {preview ? (
          <div className="btn-row">
            <button type="button" className="btn btn-small" onClick={() => copy(preview.yaml)}>Copy</button>
            <button type="button" className="btn btn-small" onClick={() => download(preview.yaml, preview.fileName)}>Download .yml</button>
          </div>
        ) : null}
      </div>
      {error ? <ErrorAlert error={error} prefix="Could not build the recipe:" /> : null}
      {!preview && pending ? <p role="status" className="muted">Building the recipe…</p> : null}
      {!preview && !pending && !error ? <p className="empty">Pick an experiment or models to see the recipe.</p> : null}
      {preview ? (
        <>
          <p className="hint" role="status" data-testid="recipe-status" data-ok={preview.ok && !stale}>
            {stale ? "Updating…" : preview.ok ? `Valid recipe: ${preview.label}` : "The recipe has problems:"}
          </p>
          <RecipeIssues issues={preview.issues} testId="recipe-issue" />
          <pre className="yaml" data-testid="recipe-yaml" tabIndex={0} aria-label="Recipe YAML">{preview.yaml}</pre>
          {preview.notes.length > 0 ? (
            <ul className="hint">
              {preview.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          ) : null}
          {copied === "ok" ? <p role="status" className="hint" data-testid="copy-status">Copied to the clipboard.</p> : null}
          {copied === "failed" ? <p role="alert" className="hint error">Copy failed: select the YAML and press Ctrl+C.</p> : null}
        </>
      ) : null}
    </section>
  );
}
