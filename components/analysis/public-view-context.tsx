"use client";

import { createContext, useContext } from "react";

/** True inside a public view link (/p/<token>): read-only, no sharing, no account. */
export const PublicViewContext = createContext(false);

export function useIsPublicView(): boolean {
  return useContext(PublicViewContext);
}
