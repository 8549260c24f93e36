// tRPC client for CLI commands that talk to a running MergeScope server
// (MERGESCOPE_SERVER or --server, default http://localhost:3000).
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import superjson from "superjson";
import type { AppRouter } from "../api/root";

export function serverUrl(flag: string | undefined): string {
  return (flag ?? process.env.MERGESCOPE_SERVER ?? "http://localhost:3000").replace(/\/+$/, "");
}

export function apiClient(url: string) {
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${url}/api/trpc`, transformer: superjson })],
  });
}

/** Turns "fetch failed" into a message that says which server and what to do. */
export function describeConnectionError(err: unknown, url: string): Error {
  const e = err as Error & { cause?: { code?: string } };
  if (e.message === "fetch failed" || e.cause?.code === "ECONNREFUSED")
    return new Error(`cannot reach the MergeScope server at ${url}: start it with \`npm start\` or pass --server URL`);
  return e;
}
