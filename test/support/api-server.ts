// The app's tRPC router over HTTP on a loopback port, for CLI tests (the CLI
// runs in a child process and talks to it like to a real server).
import type { AddressInfo } from "node:net";
import { createHTTPServer } from "@trpc/server/adapters/standalone";
import { appRouter } from "../../server/api/root";
import { createContext } from "../../server/api/trpc";

export async function startApiServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createHTTPServer({ basePath: "/api/trpc/", router: appRouter, createContext: ({ req }) => createContext({ headers: new Headers(req.headers as Record<string, string>) }) });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
