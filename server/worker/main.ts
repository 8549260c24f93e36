// Worker process entry: the composition root of a worker. It picks the
// runtime (scale-out BullMQ when REDIS_URL is set, else the embedded SQLite
// queue) and wires what follows a completed job on the server side — the one
// place where job code meets the services that enqueue jobs.
// Started by `npm start` (MERGESCOPE_WORKERS processes, one by default) or by hand with `mergescope worker`.
import { closeDb } from "../db/client";
import { env } from "../env";
import { runWorker } from "../jobs/embedded/worker";
import { onJobCompleted } from "../services/follow-ups/on-job-completed";

export async function runConfiguredWorker(opts: { once?: boolean } = {}): Promise<void> {
  if (env().REDIS_URL) {
    // Scale-out workers never open the database: the server's recorder runs the follow-ups.
    const { runRedisWorker } = await import("../jobs/bullmq/worker");
    await runRedisWorker();
    process.exit(0);
  }
  await runWorker({ once: opts.once, onCompleted: onJobCompleted });
  await closeDb();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runConfiguredWorker();
}
