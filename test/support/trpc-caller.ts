// The one place tests call tRPC procedures in-process. Request-independent
// checks (services, limits, errors) go through here so that, once procedures
// require a signed-in user, only this file needs a session.
import { appRouter, createCaller } from "../../server/api/root";
import { createContext } from "../../server/api/trpc";

export function testCaller() {
  return createCaller(createContext({ headers: new Headers() }));
}

/** Every procedure path of the router ("jobs.enqueue", "scores.catalogue.reset", …). */
export function procedurePaths(): string[] {
  return Object.keys(appRouter._def.procedures).sort();
}

/** Calls a procedure by its path. */
export function callProcedure(path: string, input: unknown): Promise<unknown> {
  let target: unknown = testCaller();
  for (const key of path.split(".")) target = (target as Record<string, unknown>)[key];
  return (target as (i: unknown) => Promise<unknown>)(input);
}
