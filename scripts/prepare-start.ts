// Run once by `npm start` before the web server and workers: applies the
// schema (so concurrent processes never race to create it) and, on first
// start with an empty database, creates the demo experiment.
import { mkdirSync } from "node:fs";
import { closeDb } from "../server/db/client";
import { pushSchema } from "../server/db/schema-push";
import { env } from "../server/env";
import { firstAdminLink } from "../server/services/auth/invites";
import { authSecret } from "../server/services/auth/secret";
import { createDemoIfEmpty } from "../server/services/demo/create-demo";

const e = env();
mkdirSync(e.dataDir, { recursive: true });
const pushed = await pushSchema(e.databaseFile);
console.log(`[mergescope] database ${e.databaseFile}: ${pushed.executedSteps} schema step(s) applied`);
if (e.MERGESCOPE_DEMO === "1") {
  try {
    const demo = await createDemoIfEmpty();
    console.log(demo.created ? `[mergescope] demo experiment created (synthetic data), ${demo.jobs} jobs queued` : `[mergescope] no demo: ${demo.reason}`);
  } catch (err) {
    console.error(`[mergescope] the demo could not be created: ${(err as Error).message}`);
  }
}
// Accounts: the cookie secret once, and while nobody has an account, a one-time
// link for the first admin (a new one each start; only the newest opens).
authSecret();
const first = await firstAdminLink();
if (first)
  console.log(
    `\n[mergescope] No account yet. Open this one-time link to become the first admin and choose your password:\n\n    ${first.url}\n\n` +
      "[mergescope] (or, from a shell on this machine: npx mergescope user add you@example.org --admin)\n",
  );
await closeDb();
