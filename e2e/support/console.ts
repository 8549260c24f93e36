// Console errors of a page, for "no console errors" assertions. Two kinds of
// browser-logged network failures are not application errors and are left out:
// - "Failed to load resource" for an RSC prefetch (`?_rsc=`) of a nav link
//   whose page does not exist (yet) in this build;
// - with `expectHttpErrors`, the 4xx of tRPC calls the test makes fail on purpose
//   (Chromium logs every non-2xx fetch).
import type { ConsoleMessage, Page } from "@playwright/test";

export function watchConsoleErrors(page: Page, opts: { expectHttpErrors?: boolean } = {}): string[] {
  const errors: string[] = [];
  page.on("console", (msg: ConsoleMessage) => {
    if (msg.type() !== "error") return;
    const url = msg.location().url ?? "";
    const network = msg.text().startsWith("Failed to load resource");
    if (network && url.includes("_rsc=")) return;
    if (network && opts.expectHttpErrors && url.includes("/api/trpc/") && /status of 4\d\d/.test(msg.text())) return;
    errors.push(`${msg.text()} ${url}`.trim());
  });
  return errors;
}
