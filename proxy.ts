// Next.js proxy (middleware) for pages and assets: the Host allowlist (DNS
// rebinding), the security headers, and a fresh CSP nonce per request that
// Next.js puts on its own scripts. The tRPC endpoint is not matched: a proxy
// makes Next buffer request bodies (and silently cut them at 10 MB), so
// server/http/trpc-route.ts runs the same checks there before reading a byte.
import { NextResponse, type NextRequest } from "next/server";
import { checkRequest, refusalResponse } from "@/server/http/guard";
import { newNonce, securityHeaders } from "@/server/http/security-headers";

export function proxy(request: NextRequest) {
  const dev = process.env.NODE_ENV === "development";
  const refusal = checkRequest(request, { api: false });
  if (refusal) return refusalResponse(refusal, securityHeaders({ nonce: null, dev }));
  const nonce = newNonce();
  const headers = securityHeaders({ nonce, dev });
  // Next.js reads the nonce from the request's CSP header while rendering.
  const forwarded = new Headers(request.headers);
  forwarded.set("x-nonce", nonce);
  forwarded.set("Content-Security-Policy", headers["Content-Security-Policy"]!);
  const response = NextResponse.next({ request: { headers: forwarded } });
  for (const [k, v] of Object.entries(headers)) response.headers.set(k, v);
  return response;
}

export const config = {
  matcher: ["/((?!api/trpc(?:/|$)).*)"],
};
