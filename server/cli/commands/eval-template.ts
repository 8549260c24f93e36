// `mergescope eval-template add|list`: evaluation command templates on a
// running server. Adding one needs an admin token; every evaluation runs one
// of these, never a command sent with a job.
import { parseArgs } from "node:util";
import { apiClient, describeConnectionError, serverUrl } from "../api-client";
import { CliUsageError } from "../command";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: "boolean" }, server: { type: "string" } } });
  const [action, ...rest] = positionals;
  const url = serverUrl(values.server);
  if (action === "add") {
    if (rest.length !== 2) throw new CliUsageError("give a NAME and the COMMAND (quoted, as one argument)");
    try {
      const t = await apiClient(url).scores.templates.create.mutate({ name: rest[0]!, command: rest[1]! });
      console.log(`evaluation template '${t.name}' added (id ${t.id})`);
      for (const w of t.warnings) console.error(`warning: ${w}`);
    } catch (err) {
      throw describeConnectionError(err, url);
    }
    return 0;
  }
  if (action === "list") {
    let rows;
    try {
      rows = await apiClient(url).scores.templates.list.query();
    } catch (err) {
      throw describeConnectionError(err, url);
    }
    if (values.json) console.log(JSON.stringify(rows, null, 2));
    else if (rows.length === 0) console.log("no evaluation templates (an admin adds them: mergescope eval-template add NAME COMMAND)");
    else for (const t of rows) console.log(`${t.id}  ${t.name}\n    ${t.command}`);
    return 0;
  }
  throw new CliUsageError(action ? `unknown action '${action}' (add, list)` : "say add or list");
}
