// Who is calling: a signed-in user (session cookie), a personal API token
// (Authorization: Bearer … or X-API-Key), a public view link
// (X-MergeScope-Share: <token>), or nobody. Resolved once per request for the
// tRPC context and the pages.
import { authForRequest } from "./auth";
import { parseRole, type Role } from "./roles";
import type { UserSummary } from "./schemas";
import { verifyToken } from "./tokens";
import { getUserSummary } from "./users";
import { resolvePublicLink, type PublicLinkScope } from "../views/public-links";

export const SHARE_HEADER = "x-mergescope-share";

export type Principal =
  | { kind: "anonymous"; reason: string }
  | { kind: "user"; user: UserSummary; role: Role; via: "session" | "token" }
  | { kind: "share"; link: PublicLinkScope };

function bearer(headers: Headers): string | null {
  const auth = headers.get("authorization");
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1]! : null;
  }
  return headers.get("x-api-key")?.trim() || null;
}

export async function resolvePrincipal(headers: Headers, url?: string): Promise<Principal> {
  const token = bearer(headers);
  if (token) {
    const t = await verifyToken(token);
    if (!t) return { kind: "anonymous", reason: "the API token was refused: it is unknown, revoked or expired (create a new one on your Account page)" };
    const user = await getUserSummary(t.userId);
    if (!user) return { kind: "anonymous", reason: "the API token's account no longer exists" };
    return { kind: "user", user: { ...user, role: t.role }, role: t.role, via: "token" };
  }
  if (headers.get("cookie")) {
    const auth = await authForRequest(headers, url);
    const session = await auth.api.getSession({ headers }).catch(() => null);
    if (session?.user && !(session.user as { banned?: boolean | null }).banned) {
      const role = parseRole((session.user as { role?: string | null }).role);
      const u = session.user;
      return { kind: "user", user: { id: u.id, name: u.name, email: u.email, role }, role, via: "session" };
    }
  }
  const share = headers.get(SHARE_HEADER);
  if (share) {
    const link = await resolvePublicLink(share);
    if (link) return { kind: "share", link };
    return { kind: "anonymous", reason: "this public link is not valid any more: it was revoked or has expired" };
  }
  return { kind: "anonymous", reason: "sign in first" };
}
