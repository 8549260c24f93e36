import type { CompareData } from "@/server/services/charts/schemas";

type Source = CompareData["recipes"]["ties"][number];

/** A merge recipe as its jobs queued it (mergekit YAML); jobs with the same YAML share one block. */
export function RecipeBlock({ title, sources, testId }: { title: string; sources: Source[]; testId: string }) {
  const byYaml = new Map<string, Source[]>();
  for (const s of sources) byYaml.set(s.yaml, [...(byYaml.get(s.yaml) ?? []), s]);
  return (
    <section className="card recipe-block" data-testid={testId}>
      <h3>{title}</h3>
      {sources.length === 0 ? <p className="muted">No job with this recipe yet.</p> : null}
      {[...byYaml].map(([yaml, jobs]) => (
        <div key={yaml}>
          <ul className="hint recipe-jobs">
            {jobs.map((s) => (
              <li key={`${s.kind}:${s.jobId}`}>
                {s.kind === "merge" ? "merge" : "analyze"} job <code>{s.jobId}</code>
                {s.outputPath ? (
                  <>
                    {" "}
                    → <span className="path">{s.outputPath}</span>
                  </>
                ) : null}
              </li>
            ))}
          </ul>
          <pre className="yaml">{yaml}</pre>
        </div>
      ))}
    </section>
  );
}
