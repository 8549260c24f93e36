"use client";

import { usePathname, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useRef, useState, type Dispatch, type SetStateAction } from "react";

/** How long the address bar may lag behind the view while a slider is moving. */
const URL_WRITE_DELAY_MS = 150;

/**
 * Like components/common/use-url-state, but the address bar is written a moment
 * after the last change instead of on every change: history.replaceState (and
 * the router's reaction to it) costs ~10 ms a call in Chromium, which a density
 * slider would pay on every step before the figures show. `flush()` writes at
 * once (before a link is copied).
 */
export function useAnalysisUrlState<T>(
  parse: (params: URLSearchParams) => T,
  serialize: (state: T) => URLSearchParams,
): [T, Dispatch<SetStateAction<T>>, () => void] {
  const params = useSearchParams();
  const pathname = usePathname();
  const [state, setState] = useState<T>(() => parse(new URLSearchParams(params.toString())));
  const written = useRef<string>(params.toString());
  const pending = useRef<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const write = useCallback(() => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    const qs = pending.current;
    pending.current = null;
    if (qs === null || qs === written.current) return;
    written.current = qs;
    window.history.replaceState(null, "", qs ? `${pathname}?${qs}` : pathname);
  }, [pathname]);

  useEffect(() => {
    const current = params.toString();
    if (current !== written.current && pending.current === null) {
      written.current = current;
      setState(parse(new URLSearchParams(current)));
    }
    // parse is a pure module-level function
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [params]);

  useEffect(() => {
    const qs = serialize(state).toString();
    if (qs === written.current) {
      pending.current = null;
      return;
    }
    pending.current = qs;
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(write, URL_WRITE_DELAY_MS);
  }, [state, serialize, write]);

  // A reload or a closed tab with a pending write: write it first (so the browser's history has the view).
  // Unmounting (a link to another page) only drops the timer: writing then would overwrite the new page's URL.
  useEffect(() => {
    window.addEventListener("pagehide", write);
    return () => {
      window.removeEventListener("pagehide", write);
      if (timer.current) clearTimeout(timer.current);
    };
  }, [write]);

  return [state, setState, write];
}
