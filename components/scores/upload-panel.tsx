"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type DragEvent } from "react";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC, useTRPCClient } from "@/components/providers/trpc";
import { formatBytes } from "@/server/paths/format";
import { LIMITS } from "@/server/limits";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";
import type { ImportOutcome } from "@/server/services/scores/import";

/** The server's limit for one results file (larger ones are refused before they are parsed). */
const MAX_BYTES = LIMITS.resultsFileBytes;

function OutcomeItem({ o }: { o: ImportOutcome }) {
  if (!o.ok)
    return (
      <li className="alert alert-error" role="alert" data-testid="import-error" data-file={o.fileName}>
        {o.error}
      </li>
    );
  const s = o.summary;
  const bySplit = new Map<string, string[]>();
  for (const t of s.tasks) {
    const k = `${t.split} — ${t.splitSource}`;
    bySplit.set(k, [...(bySplit.get(k) ?? []), t.task]);
  }
  return (
    <li className="alert alert-ok" data-testid="import-ok" data-file={s.fileName}>
      <strong>{s.fileName}</strong>: {s.total} scores for{" "}
      {s.modelId ? (
        <>
          model <strong>{s.modelLabel ?? s.modelId}</strong> (matched by {s.matchedBy})
        </>
      ) : (
        <>
          <code>{s.modelName}</code> — not filed yet: no registered model has this path; confirm its model in the review below
        </>
      )}
      . {s.duplicate ? "Already imported: nothing changed." : `${s.created} new, ${s.updated} updated, ${s.unchanged} unchanged.`}
      <ul className="split-choices">
        {[...bySplit].map(([k, tasks]) => (
          <li key={k}>
            split <strong>{k}</strong>: {tasks.join(", ")}
          </li>
        ))}
      </ul>
      {s.warnings.length > 0 && (
        <details>
          <summary>{s.warnings.length} warning(s)</summary>
          <ul>
            {s.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </details>
      )}
    </li>
  );
}

/** Upload lm-eval results files: drag & drop several, or choose them with the file input. */
export function UploadPanel() {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const refetchAfterWrite = useRefetchAfterWrite();
  const models = useQuery(trpc.scores.models.queryOptions());
  const [split, setSplit] = useState<"" | "dev" | "test">("");
  const [modelId, setModelId] = useState("");
  const [dragging, setDragging] = useState(false);
  const [outcomes, setOutcomes] = useState<ImportOutcome[]>([]);
  const [readErrors, setReadErrors] = useState<string[]>([]);
  // Drops and file choices are handled once the page is interactive (tests wait for this).
  const [ready, setReady] = useState(false);
  useEffect(() => setReady(true), []);
  const inputRef = useRef<HTMLInputElement>(null);
  const ids = { input: useId(), split: useId(), model: useId(), help: useId() };
  // One request per file: each stays under the server's upload limit.
  const mutation = useMutation({
    mutationFn: async (vars: { files: { fileName: string; text: string }[]; split: "dev" | "test" | null; modelId: string | null }) => {
      const all: ImportOutcome[] = [];
      for (const f of vars.files) all.push(...(await client.scores.importFiles.mutate({ files: [f], split: vars.split, modelId: vars.modelId })));
      return all;
    },
    onSuccess: (res) => {
      setOutcomes(res);
      void refetchAfterWrite(trpc.scores.pathKey());
    },
  });

  async function upload(fileList: FileList | File[]) {
    const files = [...fileList];
    if (files.length === 0) return;
    const errors: string[] = [];
    const payload: { fileName: string; text: string }[] = [];
    for (const f of files) {
      if (f.size > MAX_BYTES) errors.push(`${f.name}: ${formatBytes(f.size)}, above the ${formatBytes(MAX_BYTES)} limit for a results file; not uploaded`);
      else payload.push({ fileName: f.name, text: await f.text() });
    }
    setReadErrors(errors);
    setOutcomes([]);
    if (payload.length > 0) mutation.mutate({ files: payload, split: split || null, modelId: modelId || null });
  }

  function onDrop(e: DragEvent<HTMLDivElement>) {
    e.preventDefault();
    setDragging(false);
    void upload(e.dataTransfer.files);
  }

  return (
    <section className="card" aria-labelledby="upload-title">
      <h2 id="upload-title">Import lm-evaluation-harness results</h2>
      <div className="row">
        <div className="field">
          <label htmlFor={ids.split}>Split</label>
          <select id={ids.split} value={split} onChange={(e) => setSplit(e.target.value as "" | "dev" | "test")} data-testid="upload-split">
            <option value="">from each task&apos;s config (else test)</option>
            <option value="dev">dev</option>
            <option value="test">test</option>
          </select>
        </div>
        <div className="field field-grow">
          <label htmlFor={ids.model}>File under</label>
          <select id={ids.model} value={modelId} onChange={(e) => setModelId(e.target.value)} data-testid="upload-model">
            <option value="">the model whose path the file names (else keep its name)</option>
            {models.data?.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name} — {m.path}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div
        className={`dropzone${dragging ? " dropzone-active" : ""}`}
        data-testid="scores-dropzone"
        data-ready={ready}
        onDragEnter={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = "copy";
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        aria-describedby={ids.help}
      >
        <p id={ids.help}>
          Drop <code>results_&lt;date&gt;.json</code> files here (several at once), or choose them:
        </p>
        <label htmlFor={ids.input} className="sr-only">
          Results files
        </label>
        <input
          ref={inputRef}
          id={ids.input}
          type="file"
          multiple
          accept=".json,application/json"
          data-testid="scores-file-input"
          onChange={(e) => {
            if (e.target.files) void upload(e.target.files);
            e.target.value = "";
          }}
        />
      </div>
      {mutation.isPending && (
        <p role="status" className="muted">
          Importing…
        </p>
      )}
      {mutation.isError && <ErrorAlert error={mutation.error} testId="upload-error" />}
      {(readErrors.length > 0 || outcomes.length > 0) && (
        <ul className="outcomes" aria-live="polite" data-testid="import-outcomes">
          {readErrors.map((e) => (
            <li key={e} className="alert alert-error" role="alert">
              {e}
            </li>
          ))}
          {outcomes.map((o, i) => (
            <OutcomeItem key={`${i}:${o.fileName}`} o={o} />
          ))}
        </ul>
      )}
    </section>
  );
}
