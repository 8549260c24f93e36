// One application error type. Services throw it; the tRPC error formatter maps
// `code` to a tRPC code and exposes `appCode` (and the engine's code) to clients.
export const appErrorCodes = {
  NOT_FOUND: "NOT_FOUND",
  BAD_INPUT: "BAD_REQUEST",
  PATH_NOT_ALLOWED: "FORBIDDEN",
  /** No session, token or valid public link. */
  SIGN_IN_REQUIRED: "UNAUTHORIZED",
  /** Signed in, but the procedure needs a higher role (or a public link asked for another view's data). */
  ROLE_REQUIRED: "FORBIDDEN",
  /** Only the owner of the thing (or an admin) may do this. */
  NOT_OWNER: "FORBIDDEN",
  CONFLICT: "CONFLICT",
  ENGINE: "UNPROCESSABLE_CONTENT",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
  /** Input above a documented size limit (request body, recipe, results file). */
  TOO_LARGE: "PAYLOAD_TOO_LARGE",
  INTERNAL: "INTERNAL_SERVER_ERROR",
} as const;

export type AppErrorCode = keyof typeof appErrorCodes;

export class AppError extends Error {
  readonly code: AppErrorCode;
  /** Stable code from the native engine (e.g. ST_HEADER_TOO_LARGE), when the failure came from it. */
  readonly engineCode?: string;

  constructor(code: AppErrorCode, message: string, options?: { engineCode?: string; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = "AppError";
    this.code = code;
    this.engineCode = options?.engineCode;
  }
}
