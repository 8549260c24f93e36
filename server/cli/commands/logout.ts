// `mergescope logout`: forgets the token `mergescope login` saved for a server.
import { parseArgs } from "node:util";
import { serverUrl } from "../api-client";
import { credentialsFile, forgetToken } from "../credentials";

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { server: { type: "string" } } });
  const url = serverUrl(values.server);
  console.log(forgetToken(url) ? `forgot the token for ${url} (${credentialsFile()}); revoke it on the Account page if it may have leaked` : `no token saved for ${url}`);
  return 0;
}
