// tRPC client for CLI commands that talk to a running MergeScope server
// (MERGESCOPE_SERVER or --server, default http://localhost:3000), signed in
// with a personal API token (MERGESCOPE_TOKEN, or `mergescope login`).
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import superjson from "superjson";
import type { AppRouter } from "../api/root";
import { tokenFor } from "./credentials";

export function serverUrl(flag: string | undefined): string {
  return (flag ?? process.env.MERGESCOPE_SERVER ?? "http://localhost:3000").replace(/\/+$/, "");
}

/** The command needs an account on the server and none is configured. */
export class NotSignedInError extends Error {
  constructor(url: string) {
    super(
      `not signed in to ${url}: create a personal API token on the server's Account page (${url}/account), ` +
        `then run \`mergescope login --server ${url}\` (or set MERGESCOPE_TOKEN)`,
    );
    this.name = "NotSignedInError";
  }
}

export function apiClient(url: string, opts: { token?: string | null } = {}) {
  const token = opts.token === undefined ? (tokenFor(url)?.token ?? null) : opts.token;
  if (!token) throw new NotSignedInError(url);
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${url}/api/trpc`, transformer: superjson, headers: () => ({ authorization: `Bearer ${token}` }) })],
  });
}

/** Turns "fetch failed" and a refused token into messages that say which server and what to do. */
export function describeConnectionError(err: unknown, url: string): Error {
  const e = err as Error & { cause?: { code?: string } };
  if (e.message === "fetch failed" || e.cause?.code === "ECONNREFUSED")
    return new Error(`cannot reach the MergeScope server at ${url}: start it with \`npm start\` or pass --server URL`);
  if (err instanceof TRPCClientError && (err.data as { code?: string } | undefined)?.code === "UNAUTHORIZED") {
    const from = tokenFor(url)?.source === "MERGESCOPE_TOKEN" ? "MERGESCOPE_TOKEN" : "the token saved by `mergescope login`";
    return new Error(`${url} refused ${from}: ${e.message}. Create a new token on ${url}/account and run \`mergescope login --server ${url}\`.`);
  }
  return e;
}
