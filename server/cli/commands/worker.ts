import { parseArgs } from "node:util";
import type { CliCommand } from "../command";

export const workerCommand: CliCommand = {
  name: "worker",
  summary: "Run a job worker (REDIS_URL set: BullMQ scale-out worker; else the embedded SQLite queue)",
  usage: "mergescope worker",
  async run(argv) {
    parseArgs({ args: argv, options: {} });
    const { runConfiguredWorker } = await import("../../worker/main");
    await runConfiguredWorker();
    return 0;
  },
};
