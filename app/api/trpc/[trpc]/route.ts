import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/api/root";
import { createContext } from "@/server/api/trpc";
import { guardedTrpcRequest } from "@/server/http/trpc-route";
import { LIMITS } from "@/server/limits";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

// Host, Origin, content type and body size are checked (server/http) before tRPC reads anything.
function handler(req: Request) {
  return guardedTrpcRequest(req, (checked) =>
    fetchRequestHandler({
      endpoint: "/api/trpc",
      req: checked,
      router: appRouter,
      createContext: () => createContext({ headers: checked.headers }),
      maxBatchSize: LIMITS.batchCalls,
      onError({ error, path }) {
        if (error.code === "INTERNAL_SERVER_ERROR") console.error(`tRPC ${path ?? "?"}:`, error);
      },
    }),
  );
}

export { handler as GET, handler as POST };
