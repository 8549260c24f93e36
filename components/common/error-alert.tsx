import { describeError } from "./describe-error";

/** A failed request: the server's message and MergeScope's error code. */
export function ErrorAlert({ error, testId, prefix }: { error: unknown; testId?: string; prefix?: string }) {
  const { message, code } = describeError(error);
  return (
    <p role="alert" className="alert alert-error" data-testid={testId} data-code={code ?? undefined}>
      {prefix ? <strong>{prefix} </strong> : null}
      {message}
      {code ? <span className="code-tag">{code}</span> : null}
    </p>
  );
}
