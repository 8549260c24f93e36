// Path refusals: an AppError (so the API maps it to 400/403/404/413) whose
// engineCode names the rule that refused the path (jobs fail with that code).
import { AppError, type AppErrorCode } from "../errors";

export const PATH_RULES = {
  /** The text of the path is unusable (empty, relative, NUL, control characters, edge whitespace, too long, bad Unicode). */
  PATH_INVALID: "BAD_INPUT",
  /** It resolves (after symlinks) outside every allowed folder. */
  PATH_NOT_ALLOWED: "PATH_NOT_ALLOWED",
  /** Inside an allowed folder, but nothing is there. */
  PATH_NOT_FOUND: "NOT_FOUND",
  /** Not a regular file (FIFO, device, socket) or not a directory where one is needed. */
  PATH_NOT_REGULAR: "BAD_INPUT",
  /** A file above the size limit of what it is read as. */
  FILE_TOO_LARGE: "TOO_LARGE",
} as const satisfies Record<string, AppErrorCode>;

export type PathRule = keyof typeof PATH_RULES;

export class PathError extends AppError {
  readonly rule: PathRule;
  /** The path as given (verbatim). */
  readonly path: string;

  constructor(rule: PathRule, path: string, message: string, options?: { cause?: unknown }) {
    super(PATH_RULES[rule], message, { engineCode: rule, cause: options?.cause });
    this.name = "PathError";
    this.rule = rule;
    this.path = path;
  }
}

/** A path for a message: quoted (so edge whitespace and control characters show), escaped, capped. */
export function showPath(p: string): string {
  const max = 300;
  const shown = p.length > max ? `${p.slice(0, max)}…` : p;
  return `${JSON.stringify(shown)}${p.length > max ? ` (${Buffer.byteLength(p)} bytes)` : ""}`;
}
