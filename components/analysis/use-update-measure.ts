"use client";

import { useEffect } from "react";

/**
 * After the figures re-rendered for a new density selection, measures the time
 * since the explorer's input (performance mark "ms-explorer-input"):
 * - "ms-explorer-frame": to the next animation frame (React committed; the frame that shows it starts);
 * - "ms-explorer-update": to a task after that frame (style, layout and paint included — the conservative figure).
 * bench/charts reads these measures.
 */
export function useUpdateMeasure(key: string): void {
  useEffect(() => {
    if (typeof performance === "undefined" || performance.getEntriesByName("ms-explorer-input", "mark").length === 0) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const raf = requestAnimationFrame(() => {
      if (cancelled) return;
      performance.measure("ms-explorer-frame", "ms-explorer-input");
      timer = setTimeout(() => {
        if (cancelled || performance.getEntriesByName("ms-explorer-input", "mark").length === 0) return;
        performance.measure("ms-explorer-update", "ms-explorer-input");
        performance.clearMarks("ms-explorer-input");
      }, 0);
    });
    return () => {
      cancelled = true;
      cancelAnimationFrame(raf);
      if (timer) clearTimeout(timer);
    };
  }, [key]);
}
