import { parseArgs } from "node:util";

export async function run(argv: string[]): Promise<number> {
  parseArgs({ args: argv, options: {} });
  const { runConfiguredWorker } = await import("../../worker/main");
  await runConfiguredWorker();
  return 0;
}
