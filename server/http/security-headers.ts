// Headers on every response (pages, assets, API). The CSP allows scripts only
// from this origin and with the per-request nonce Next.js puts on its own
// scripts ('strict-dynamic' lets those load the app's chunks); styles may be
// inline (React and Recharts set style attributes); nothing may frame a page.

/** A fresh CSP nonce (one per page request). */
export function newNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64");
}

export function contentSecurityPolicy(opts: { nonce: string | null; dev: boolean }): string {
  const script = opts.nonce ? `'self' 'nonce-${opts.nonce}' 'strict-dynamic'` : "'self'";
  return [
    "default-src 'self'",
    // 'unsafe-eval' only for next dev (React's dev tooling); never in production.
    `script-src ${script}${opts.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Every response's security headers. `nonce` for HTML pages; null elsewhere (no script runs from an API response). */
export function securityHeaders(opts: { nonce: string | null; dev?: boolean }): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy({ nonce: opts.nonce, dev: opts.dev ?? false }),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
  };
}
