import type { RecipeIssueOut } from "@/server/services/builder/schemas";

/** Recipe problems, each at its YAML path (and line). */
export function RecipeIssues({ issues, testId }: { issues: RecipeIssueOut[]; testId: string }) {
  if (issues.length === 0) return null;
  return (
    <ul className="issues" role="alert" data-testid={`${testId}-list`}>
      {issues.map((i, n) => (
        <li key={n} data-testid={testId} data-path={i.path}>
          {i.path ? <code>{i.path}</code> : null}
          {i.line !== null ? <span className="muted"> (line {i.line})</span> : null}
          {i.path || i.line !== null ? ": " : null}
          {i.message}
        </li>
      ))}
    </ul>
  );
}
