// Better Auth's browser client: sign in (email + password, single sign-on) and sign out.
// The session cookie is HttpOnly: pages learn who is signed in from the server.
import { createAuthClient } from "better-auth/client";

export const authClient = createAuthClient();

/** Where to go after signing in: only a path on this site (never another origin). */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\") || next.startsWith("/login")) return "/";
  return next;
}
