// Run once by `npm start` before the web server and workers: applies the
// schema (so concurrent processes never race to create it) and, on first
// start with an empty database, creates the demo experiment.
import { mkdirSync } from "node:fs";
import { closeDb } from "../server/db/client";
import { pushSchema } from "../server/db/schema-push";
import { env } from "../server/env";
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
await closeDb();
