// `mergescope login`: checks a personal API token against a server and keeps it
// for the commands that talk to that server (submit, jobs, import-scores,
// scores, eval-template). `mergescope logout` (logout.ts) forgets it.
import { parseArgs } from "node:util";
import { apiClient, describeConnectionError, serverUrl } from "../api-client";
import { CliUsageError } from "../command";
import { storeToken } from "../credentials";

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    process.stderr.write("Personal API token (from the Account page): ");
    const rl = (await import("node:readline/promises")).createInterface({ input: process.stdin, output: process.stderr, terminal: false });
    const line = await rl.question("");
    rl.close();
    return line;
  }
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { server: { type: "string" }, token: { type: "string" } } });
  const url = serverUrl(values.server);
  const token = (values.token ?? (await readStdin())).trim();
  if (!token) throw new CliUsageError("no token given: create one on the server's Account page and pass it with --token or on standard input");
  let me;
  try {
    me = await apiClient(url, { token }).account.me.query();
  } catch (err) {
    throw describeConnectionError(err, url);
  }
  const file = storeToken(url, token, me.email);
  console.log(`signed in to ${url} as ${me.email} (${me.role}); token saved in ${file}`);
  return 0;
}
