// Signed-in callers for unit tests, made the way the app makes them: an
// invitation accepted with a password, a Better Auth sign-in, and the session
// cookie it sets turned into a tRPC context (no shortcut around the checks).
import { createCaller } from "../../server/api/root";
import { createContext } from "../../server/api/trpc";
import { getAuth } from "../../server/services/auth/auth";
import { acceptInvite, createInvite } from "../../server/services/auth/invites";
import type { Role } from "../../server/services/auth/roles";

export const TEST_PASSWORD = "correct horse battery";
let n = 0;

export async function createUser(role: Role, email = `${role}-${process.pid}-${++n}@lab.test`): Promise<{ email: string; password: string }> {
  const { token } = await createInvite({ email, role });
  await acceptInvite(token, { name: `${role} ${n}`, password: TEST_PASSWORD });
  return { email, password: TEST_PASSWORD };
}

/** The Cookie header of a fresh sign-in. */
export async function signInCookie(email: string, password = TEST_PASSWORD): Promise<string> {
  const auth = await getAuth();
  const res = await auth.api.signInEmail({ body: { email, password }, asResponse: true });
  if (!res.ok) throw new Error(`sign-in of ${email} failed: ${res.status} ${await res.text()}`);
  return res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
}

export async function headersAs(role: Role): Promise<Headers> {
  const { email } = await createUser(role);
  return new Headers({ cookie: await signInCookie(email) });
}

/** A tRPC caller signed in as a new user with this role. */
export async function callerAs(role: Role) {
  return createCaller(await createContext({ headers: await headersAs(role) }));
}

export async function anonymousCaller() {
  return createCaller(await createContext({ headers: new Headers() }));
}
