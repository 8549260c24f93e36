// Process entry for the scale-out recorder (started by `npm start` when REDIS_URL is set):
// BullMQ events → database rows, then the server-side follow-ups of completed jobs.
import { closeDb } from "../db/client";
import { runRecorder } from "../jobs/bullmq/recorder";
import { onJobCompleted } from "../services/follow-ups/on-job-completed";

const stop = await runRecorder(onJobCompleted);
await new Promise<void>((resolve) => {
  process.once("SIGTERM", () => resolve());
  process.once("SIGINT", () => resolve());
});
await stop();
await closeDb();
process.exit(0);
