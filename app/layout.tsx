import type { Metadata } from "next";
import { headers } from "next/headers";
import type { ReactNode } from "react";
import { AppShell } from "@/components/auth/app-shell";
import { AppProviders } from "@/components/providers/app-providers";
import { currentUser } from "@/server/services/auth/current-user";
import "./globals.css";

// Rendered per request: each page carries its own CSP nonce (proxy.ts), which a prerendered page could not.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: "MergeScope",
  description: "Merge continually pre-trained and SFT LLMs for low-resource languages, and see why it works.",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const user = await currentUser(await headers());
  return (
    <html lang="en">
      <body>
        <AppProviders>
          <AppShell user={user}>{children}</AppShell>
        </AppProviders>
      </body>
    </html>
  );
}
