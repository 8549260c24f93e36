// Process entry for the scale-out recorder (started by `npm start` when REDIS_URL is set).
import { closeDb } from "../../db/client";
import { runRecorder } from "./recorder";

const stop = await runRecorder();
await new Promise<void>((resolve) => {
  process.once("SIGTERM", () => resolve());
  process.once("SIGINT", () => resolve());
});
await stop();
await closeDb();
process.exit(0);
