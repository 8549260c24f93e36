"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useHasRole } from "@/components/auth/session-context";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import { useRefetchAfterWrite } from "@/components/providers/use-refetch-after-write";
import { EXAMPLE_EVAL_TEMPLATE } from "@/server/services/scores/eval-command";

/**
 * Evaluation command templates: the only commands an evaluation runs. Everyone
 * signed in sees them; admins add, edit and delete them.
 */
export function EvalTemplatesPanel() {
  const trpc = useTRPC();
  const admin = useHasRole("admin");
  const list = useQuery(trpc.scores.templates.list.queryOptions());
  const refetchAfterWrite = useRefetchAfterWrite();
  const refetch = () => refetchAfterWrite(trpc.scores.templates.list.queryKey());
  const create = useMutation(trpc.scores.templates.create.mutationOptions({ onSuccess: refetch }));
  const remove = useMutation(trpc.scores.templates.delete.mutationOptions({ onSuccess: refetch }));
  const [name, setName] = useState("");
  const [command, setCommand] = useState(EXAMPLE_EVAL_TEMPLATE);
  const ids = { name: useId(), command: useId(), help: useId() };
  return (
    <section className="card" aria-labelledby="templates-title" data-testid="eval-templates">
      <h2 id="templates-title">Evaluation command templates</h2>
      <p className="hint" id={ids.help}>
        A worker runs the command without a shell: it is split into arguments (quotes respected, nothing expanded) and only <code>{"{model}"}</code>,{" "}
        <code>{"{tasks}"}</code> (comma-joined) and <code>{"{out}"}</code> are replaced. Only admins write templates; evaluations and experiments refer to them by name.
      </p>
      {list.isError ? <ErrorAlert error={list.error} /> : null}
      {list.data && list.data.length > 0 ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Command</th>
              <th scope="col">Experiments</th>
              {admin ? <th scope="col"></th> : null}
            </tr>
          </thead>
          <tbody>
            {list.data.map((t) => (
              <tr key={t.id} data-testid="eval-template-row">
                <td>{t.name}</td>
                <td>
                  <code>{t.command}</code>
                  {t.warnings.map((w) => (
                    <p key={w} className="hint">
                      {w}
                    </p>
                  ))}
                </td>
                <td>{t.experiments}</td>
                {admin ? (
                  <td>
                    <button type="button" className="btn btn-small btn-danger" onClick={() => remove.mutate({ id: t.id })} aria-label={`Delete template ${t.name}`}>
                      Delete
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">No templates yet{admin ? "" : ": an admin adds them"}.</p>
      )}
      {remove.isError ? <ErrorAlert error={remove.error} /> : null}
      {admin ? (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate({ name, command });
          }}
        >
          <div className="row">
            <div className="field">
              <label htmlFor={ids.name}>Template name</label>
              <input id={ids.name} type="text" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
            </div>
            <div className="field field-grow">
              <label htmlFor={ids.command}>Command</label>
              <textarea id={ids.command} rows={2} required value={command} onChange={(e) => setCommand(e.target.value)} aria-describedby={ids.help} spellCheck={false} />
            </div>
          </div>
          <div className="btn-row">
            <button type="submit" className="btn btn-primary" disabled={create.isPending}>
              Add template
            </button>
          </div>
          {create.isError ? <ErrorAlert error={create.error} testId="template-error" /> : null}
        </form>
      ) : null}
    </section>
  );
}
