// Request hygiene before anything else runs (the proxy for pages and assets,
// the tRPC route for the API; both call this): the Host must be allowed (DNS
// rebinding), and a state-changing request must be JSON (a form or a no-cors
// fetch cannot send application/json) from this origin or an origin the
// administrator allowed (CSRF). The answer is a plain-text 4xx saying why.
import { env } from "../env";
import { hostAllowed, originAllowed } from "./hosts";

export interface Refusal {
  status: 403 | 415 | 421;
  message: string;
}

/** Methods that change nothing (tRPC queries, pages, assets). */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function mediaType(contentType: string | null): string | null {
  return contentType ? contentType.split(";", 1)[0]!.trim().toLowerCase() : null;
}

/** Null when the request may proceed; otherwise the status and message to answer with. */
export function checkRequest(req: { method: string; headers: Headers }, opts: { api: boolean }): Refusal | null {
  const { allowedHosts } = env();
  const host = req.headers.get("host");
  if (!hostAllowed(host, allowedHosts)) {
    return {
      status: 421,
      message:
        `MergeScope does not answer to the host name ${JSON.stringify(host ?? "")}. If this is the name you use to reach it, ` +
        "add it to MERGESCOPE_ALLOWED_HOSTS (comma-separated) and restart; unknown names are refused to defeat DNS rebinding.",
    };
  }
  if (SAFE_METHODS.has(req.method.toUpperCase())) return null;
  const origin = req.headers.get("origin");
  if (origin !== null && !originAllowed(origin, host, allowedHosts)) {
    return {
      status: 403,
      message: `cross-origin request refused: origin ${JSON.stringify(origin)} may not change this server (only pages it served, or origins listed in MERGESCOPE_ALLOWED_HOSTS)`,
    };
  }
  // Browsers that send no Origin still say where a request comes from.
  const site = req.headers.get("sec-fetch-site");
  if (origin === null && site !== null && site !== "same-origin" && site !== "none") {
    return { status: 403, message: `cross-site request refused (Sec-Fetch-Site: ${site}); requests that change data must come from this server's own pages` };
  }
  if (opts.api && mediaType(req.headers.get("content-type")) !== "application/json") {
    return {
      status: 415,
      message: `requests that change data must be application/json, not ${JSON.stringify(req.headers.get("content-type") ?? "no content type")} (forms are refused)`,
    };
  }
  return null;
}

/** The refusal as a response, with the security headers. */
export function refusalResponse(r: Refusal, headers: Record<string, string>): Response {
  return new Response(`${r.message}\n`, { status: r.status, headers: { ...headers, "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" } });
}
