// A CLI subcommand: name, one-line summary, usage text and a runner that
// returns the process exit code. Commands print their own output.
export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** Error with a message meant for the terminal (no stack trace). */
export class CliUsageError extends Error {}
