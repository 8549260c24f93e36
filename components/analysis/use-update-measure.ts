"use client";

import { useEffect } from "react";

/**
 * After the figures re-rendered for a new density selection, measures the time
 * since the explorer's input (performance mark "ms-explorer-input") to the next
 * frame: performance.measure("ms-explorer-update"). bench/charts reads these.
 */
export function useUpdateMeasure(key: string): void {
  useEffect(() => {
    if (typeof performance === "undefined" || performance.getEntriesByName("ms-explorer-input", "mark").length === 0) return;
    let cancelled = false;
    const raf = requestAnimationFrame(() => {
      // setTimeout after the frame callback: the frame with the new figures has been produced.
      setTimeout(() => {
        if (cancelled || performance.getEntriesByName("ms-explorer-input", "mark").length === 0) return;
        performance.mark("ms-explorer-painted");
        performance.measure("ms-explorer-update", "ms-explorer-input", "ms-explorer-painted");
        performance.clearMarks("ms-explorer-input");
        performance.clearMarks("ms-explorer-painted");
      }, 0);
    });
    return () => {
      cancelled = true;
      cancelAnimationFrame(raf);
    };
  }, [key]);
}
