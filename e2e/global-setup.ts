// Fails fast with a clear message when the Chromium binary is missing.
import { existsSync } from "node:fs";

export default function globalSetup(): void {
  const chromium = process.env.MERGESCOPE_CHROMIUM ?? "/usr/bin/chromium";
  if (!existsSync(chromium)) {
    throw new Error(
      `Chromium not found at ${chromium}. Install Debian's chromium (apt-get install -y chromium) ` +
        "or set MERGESCOPE_CHROMIUM to a Chromium/Chrome binary.",
    );
  }
}
