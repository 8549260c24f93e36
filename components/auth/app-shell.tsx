"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import { Nav } from "@/components/layout/nav";
import type { UserSummary } from "@/server/services/auth/schemas";
import { SessionProvider } from "./session-context";

/** Pages for people who are not signed in: sign-in, first-admin/invitation setup, public view links. */
const OPEN_PATHS = [/^\/login$/, /^\/setup$/, /^\/p\/[^/]+$/];

export function isOpenPath(pathname: string): boolean {
  return OPEN_PATHS.some((r) => r.test(pathname));
}

/**
 * The frame of every page. Signed out, a private page sends you to the sign-in
 * page, which brings you back to it afterwards. (The data itself is refused by the
 * server to anyone without the role; this only spares an empty page.)
 */
export function AppShell({ user, children }: { user: UserSummary | null; children: ReactNode }) {
  const pathname = usePathname();
  const open = isOpenPath(pathname);
  const mustSignIn = !user && !open;
  useEffect(() => {
    if (!mustSignIn) return;
    const next = `${window.location.pathname}${window.location.search}`;
    window.location.replace(`/login?next=${encodeURIComponent(next)}`);
  }, [mustSignIn]);
  return (
    <SessionProvider user={user}>
      {open && !user ? (
        <header className="topbar">
          <Link href="/" className="brand">
            MergeScope
          </Link>
        </header>
      ) : (
        <Nav user={user} />
      )}
      <main className="container">{mustSignIn ? <p className="muted" role="status">Taking you to the sign-in page…</p> : children}</main>
    </SessionProvider>
  );
}
