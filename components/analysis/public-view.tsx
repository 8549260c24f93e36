"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { useState } from "react";
import superjson from "superjson";
import { TRPCProvider } from "@/components/providers/trpc";
import type { AppRouter } from "@/server/api/root";
import { AnalysisView } from "./analysis-view";
import { CompareView } from "./compare-view";
import { PublicViewContext } from "./public-view-context";

/**
 * A public view link: the analysis (or TIES vs TIES-SV) view with a tRPC client
 * that presents the link's token instead of a session. The server answers such
 * requests for this view's experiment's charts only.
 */
export function PublicView({ token, path }: { token: string; path: "/analysis" | "/analysis/compare" }) {
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { staleTime: 30_000, retry: 1 } } }));
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: "/api/trpc", transformer: superjson, headers: () => ({ "x-mergescope-share": token }) })],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <PublicViewContext.Provider value={true}>
          <p className="public-banner" role="note" data-testid="public-banner">
            A read-only view shared from MergeScope: these charts and tables only. <a href="/login">Sign in</a> for the rest.
          </p>
          {path === "/analysis" ? <AnalysisView /> : <CompareView />}
        </PublicViewContext.Provider>
      </TRPCProvider>
    </QueryClientProvider>
  );
}
