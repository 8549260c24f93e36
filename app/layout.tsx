import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Nav } from "@/components/layout/nav";
import { AppProviders } from "@/components/providers/app-providers";
import "./globals.css";

// Rendered per request: each page carries its own CSP nonce (proxy.ts), which a prerendered page could not.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: "MergeScope",
  description: "Merge continually pre-trained and SFT LLMs for low-resource languages, and see why it works.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <AppProviders>
          <Nav />
          <main className="container">{children}</main>
        </AppProviders>
      </body>
    </html>
  );
}
