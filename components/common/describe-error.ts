// A readable message (and MergeScope's error code) from whatever a tRPC call threw.
interface ErrorData {
  appCode?: string | null;
  engineCode?: string | null;
  zodIssues?: { path: string; message: string }[] | null;
  code?: string;
}

export function describeError(error: unknown): { message: string; code: string | null } {
  if (error === null || error === undefined) return { message: "unknown error", code: null };
  const data = (error as { data?: ErrorData | null }).data ?? null;
  const message = error instanceof Error ? error.message : String(error);
  if (data?.zodIssues && data.zodIssues.length > 0) {
    return { message: data.zodIssues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; "), code: "BAD_INPUT" };
  }
  return { message, code: data?.engineCode ?? data?.appCode ?? null };
}
