"use client";

import { useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useCallback } from "react";

/**
 * Returns `refetch(queryKey)`: call it after a mutation so every matching query shows the write.
 *
 * `invalidateQueries` alone is not enough: TanStack only cancels an in-flight fetch of a query
 * that already has data. A query still on its first load is deduplicated into that load, which
 * may have read the database before the write, and lands stale but marked fresh (a file dropped
 * on /scores while the page was loading showed its import outcome but not its scores).
 * Cancelling first makes the refetch read after the write.
 */
export function useRefetchAfterWrite(): (queryKey: QueryKey) => Promise<void> {
  const queryClient = useQueryClient();
  return useCallback(
    async (queryKey: QueryKey) => {
      await queryClient.cancelQueries({ queryKey });
      await queryClient.invalidateQueries({ queryKey });
    },
    [queryClient],
  );
}
