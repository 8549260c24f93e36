// The tRPC endpoint's outer layer (app/api/trpc/[trpc]/route.ts): request
// hygiene (guard.ts), the per-procedure body cap (body-limit.ts) applied before
// tRPC parses anything, and the security headers on every answer. Refusals are
// answered in tRPC's error shape so clients show the message.
import { BodyTooLargeError, bodyLimitFor, readBodyWithin } from "./body-limit";
import { checkRequest } from "./guard";
import { securityHeaders } from "./security-headers";

const JSON_RPC: Record<number, { code: string; number: number }> = {
  403: { code: "FORBIDDEN", number: -32003 },
  413: { code: "PAYLOAD_TOO_LARGE", number: -32013 },
  415: { code: "UNSUPPORTED_MEDIA_TYPE", number: -32015 },
  421: { code: "BAD_REQUEST", number: -32600 },
};

/** `/api/trpc/a.b,c.d` → "a.b,c.d". */
function procedurePaths(url: string): string {
  const p = new URL(url).pathname;
  const i = p.indexOf("/api/trpc/");
  return i < 0 ? "" : decodeURIComponent(p.slice(i + "/api/trpc/".length));
}

function refuse(req: Request, status: number, message: string): Response {
  const rpc = JSON_RPC[status] ?? JSON_RPC[403]!;
  const one = { error: { json: { message, code: rpc.number, data: { code: rpc.code, httpStatus: status, path: null, appCode: null, engineCode: null, zodIssues: null } } } };
  const batch = new URL(req.url).searchParams.get("batch") === "1";
  const calls = Math.max(1, procedurePaths(req.url).split(",").length);
  const body = batch ? Array.from({ length: calls }, () => one) : one;
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...securityHeaders({ nonce: null }), "Content-Type": "application/json", "Cache-Control": "no-store" },
  });
}

/** Runs `handle` (tRPC's fetch handler) on a checked request whose body is already read within its cap. */
export async function guardedTrpcRequest(req: Request, handle: (req: Request) => Promise<Response>): Promise<Response> {
  const refusal = checkRequest(req, { api: true });
  if (refusal) return refuse(req, refusal.status, refusal.message);
  let forwarded = req;
  if (req.method === "POST") {
    let body: Uint8Array<ArrayBuffer>;
    try {
      body = await readBodyWithin(req, bodyLimitFor(procedurePaths(req.url)));
    } catch (err) {
      if (err instanceof BodyTooLargeError) return refuse(req, 413, err.message);
      throw err;
    }
    const headers = new Headers(req.headers);
    headers.delete("transfer-encoding");
    headers.set("content-length", String(body.byteLength));
    forwarded = new Request(req.url, { method: "POST", headers, body, signal: req.signal });
  }
  const res = await handle(forwarded);
  for (const [k, v] of Object.entries(securityHeaders({ nonce: null }))) res.headers.set(k, v);
  return res;
}
