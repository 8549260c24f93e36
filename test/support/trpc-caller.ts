// The one place tests call tRPC procedures in-process for request-independent
// checks (services, limits, errors): as a signed-in admin, made the way the app
// makes sessions (test/support/auth.ts), so every procedure is reachable and
// the role checks stay on.
import { appRouter, createCaller } from "../../server/api/root";
import { createContext } from "../../server/api/trpc";
import { headersAs } from "./auth";

let admin: Promise<Headers> | null = null;

/** The Cookie header of an admin session (one per test process: one database per test file). */
export function adminHeaders(): Promise<Headers> {
  admin ??= headersAs("admin");
  return admin;
}

export async function testCaller() {
  return createCaller(await createContext({ headers: await adminHeaders() }));
}

/** Every procedure path of the router ("jobs.enqueue", "scores.catalogue.reset", …). */
export function procedurePaths(): string[] {
  return Object.keys(appRouter._def.procedures).sort();
}

/** Calls a procedure by its path. */
export async function callProcedure(path: string, input: unknown): Promise<unknown> {
  let target: unknown = await testCaller();
  for (const key of path.split(".")) target = (target as Record<string, unknown>)[key];
  return (target as (i: unknown) => Promise<unknown>)(input);
}
