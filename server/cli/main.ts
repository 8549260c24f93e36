// Entry of the `mergescope` CLI: dispatches to one module per subcommand.
import { readFileSync } from "node:fs";
import path from "node:path";
import { CliUsageError } from "./command";
import { commands } from "./commands";

function version(): string {
  const root = process.env.MERGESCOPE_ROOT ?? process.cwd();
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

export function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "MergeScope — merge CT and SFT checkpoints and see what the merge did.",
    "",
    "Usage: mergescope <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Options:",
    "  -h, --help     Show help (also: mergescope <command> --help)",
    "  -V, --version  Show the version",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    const topic = name === "help" ? commands.find((c) => c.name === rest[0]) : undefined;
    console.log(topic ? topic.usage : helpText());
    return 0;
  }
  if (name === "-V" || name === "--version") {
    console.log(version());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`mergescope: unknown command '${name}'. Run \`mergescope --help\` for the list.`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(`${command.summary}\n\nUsage: ${command.usage}`);
    return 0;
  }
  try {
    const { run } = await command.load();
    return await run(rest);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (err instanceof CliUsageError || e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" || e.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      console.error(`mergescope ${name}: ${e.message}\nUsage: ${command.usage}`);
      return 2;
    }
    console.error(`mergescope ${name}: ${e.code ? `[${e.code}] ` : ""}${e.message}`);
    return 1;
  }
}
