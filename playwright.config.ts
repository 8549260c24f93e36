// Playwright drives Debian's Chromium (never a downloaded browser) against the
// production build started by `npm start` with a throw-away data directory.
// Chromium: $MERGESCOPE_CHROMIUM, else /usr/bin/chromium.
import { defineConfig } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const port = Number(process.env.E2E_PORT ?? 3210);
// A fresh data directory per run; set in the runner's environment so its test
// workers (which re-load this file) see the same one.
process.env.E2E_DATA_DIR ??= mkdtempSync(path.join(os.tmpdir(), "mergescope-e2e-"));
export const e2eDataDir = process.env.E2E_DATA_DIR;

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [["list"], ["html", { open: "never", outputFolder: "playwright-report" }]],
  globalSetup: "./e2e/global-setup.ts",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    screenshot: "on",
    trace: "retain-on-failure",
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.MERGESCOPE_CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
  webServer: {
    command: "node scripts/start.mjs",
    url: `http://127.0.0.1:${port}/api/trpc/health.status`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PORT: String(port),
      MERGESCOPE_DATA_DIR: e2eDataDir,
      MERGESCOPE_DEMO: process.env.MERGESCOPE_DEMO ?? "1",
    },
  },
});
