// Better Auth's endpoints: sign-in (email + password, single sign-on), sign-out,
// session, and its admin/API-key endpoints (each checks the caller itself).
import { authForRequest } from "@/server/services/auth/auth";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

async function handler(req: Request): Promise<Response> {
  const auth = await authForRequest(req.headers, req.url);
  return auth.handler(req);
}

export { handler as GET, handler as POST };
