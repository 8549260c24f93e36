// `mergescope login`: checks a personal API token against a server and keeps it
// for the commands that talk to that server (submit, jobs, import-scores,
// scores, eval-template). `mergescope logout` forgets it.
import { parseArgs } from "node:util";
import { apiClient, describeConnectionError, serverUrl } from "../api-client";
import { CliUsageError, type CliCommand } from "../command";
import { credentialsFile, forgetToken, storeToken } from "../credentials";

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

export const loginCommand: CliCommand = {
  name: "login",
  summary: "Save a personal API token for a server (from its Account page)",
  usage: [
    "mergescope login [--server URL] [--token TOKEN]",
    "",
    "  Without --token the token is read from standard input (pasted, or piped: `mergescope login < token.txt`).",
    "  It is checked against the server, then saved in ~/.config/mergescope/credentials.json (mode 0600).",
    "  MERGESCOPE_TOKEN, when set, is used instead of a saved token.",
  ].join("\n"),
  async run(argv) {
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
  },
};

export const logoutCommand: CliCommand = {
  name: "logout",
  summary: "Forget the saved token for a server",
  usage: "mergescope logout [--server URL]",
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { server: { type: "string" } } });
    const url = serverUrl(values.server);
    console.log(forgetToken(url) ? `forgot the token for ${url} (${credentialsFile()}); revoke it on the Account page if it may have leaked` : `no token saved for ${url}`);
    return 0;
  },
};
