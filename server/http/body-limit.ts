// Request body caps per tRPC procedure, enforced before anything parses the
// body: a Content-Length above the cap is refused unread, a streamed body is
// counted and cut off at the cap. Procedures not listed get LIMITS.bodyBytes.
import { LIMITS } from "../limits";

/** Procedures that take more than the default (results-file uploads). */
export const PROCEDURE_BODY_LIMITS: Readonly<Record<string, number>> = {
  "scores.importFile": LIMITS.importBodyBytes,
  "scores.importFiles": LIMITS.importBodyBytes,
};

/** The cap for `/api/trpc/<paths>` (a batch "a,b" gets its largest member's cap). */
export function bodyLimitFor(procedurePaths: string): number {
  const caps = procedurePaths.split(",").map((p) => PROCEDURE_BODY_LIMITS[p] ?? LIMITS.bodyBytes);
  return Math.max(LIMITS.bodyBytes, ...caps);
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body above the ${limit}-byte limit for this call; it was not read`);
  }
}

/** The whole body, or BodyTooLargeError as soon as it passes `limit` bytes. */
export async function readBodyWithin(req: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw new BodyTooLargeError(limit);
  if (!req.body) return new Uint8Array(new ArrayBuffer(0));
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(new ArrayBuffer(total));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
