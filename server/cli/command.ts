// A CLI subcommand: name, one-line summary, usage text and the module that runs
// it (loaded only when the command runs). `run` returns the process exit code;
// commands print their own output.
export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  load(): Promise<{ run(argv: string[]): Promise<number> }>;
}

/** Error with a message meant for the terminal (no stack trace). */
export class CliUsageError extends Error {}
