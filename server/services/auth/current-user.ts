// The signed-in user for server-rendered pages (session cookie only).
import { resolvePrincipal } from "./principal";
import type { UserSummary } from "./schemas";

export async function currentUser(headers: Headers): Promise<UserSummary | null> {
  if (!headers.get("cookie")) return null;
  const p = await resolvePrincipal(new Headers({ cookie: headers.get("cookie")!, ...(headers.get("x-forwarded-proto") ? { "x-forwarded-proto": headers.get("x-forwarded-proto")! } : {}) }));
  return p.kind === "user" ? p.user : null;
}
