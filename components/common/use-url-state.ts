"use client";

import { usePathname, useSearchParams } from "next/navigation";
import { useEffect, useRef, useState, type Dispatch, type SetStateAction } from "react";

/**
 * Page state mirrored into the URL's search params, so a copied link reproduces
 * the view. The state lives in React (inputs stay responsive while typing); every
 * change replaces the URL (no history entry, no server round trip). When the URL
 * changes from outside (a link to the same page), the state is read again.
 */
export function useUrlState<T>(parse: (params: URLSearchParams) => T, serialize: (state: T) => URLSearchParams): [T, Dispatch<SetStateAction<T>>] {
  const params = useSearchParams();
  const pathname = usePathname();
  const [state, setState] = useState<T>(() => parse(new URLSearchParams(params.toString())));
  const written = useRef<string>(params.toString());

  useEffect(() => {
    const current = params.toString();
    if (current !== written.current) {
      written.current = current;
      setState(parse(new URLSearchParams(current)));
    }
    // `parse` is a pure module-level function: only the params matter.
  }, [params]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    const qs = serialize(state).toString();
    if (qs === written.current) return;
    written.current = qs;
    window.history.replaceState(null, "", qs ? `${pathname}?${qs}` : pathname);
  }, [state, pathname, serialize]);

  return [state, setState];
}
