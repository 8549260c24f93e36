import { parseArgs } from "node:util";
import type { CliCommand } from "../command";

export const workerCommand: CliCommand = {
  name: "worker",
  summary: "Run a job worker in the foreground (embedded queue: shares MERGESCOPE_DATA_DIR with the server)",
  usage: "mergescope worker",
  async run(argv) {
    parseArgs({ args: argv, options: {} });
    const { runWorker } = await import("../../worker/main");
    await runWorker();
    return 0;
  },
};
