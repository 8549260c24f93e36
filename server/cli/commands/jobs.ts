import { parseArgs } from "node:util";
import { apiClient, describeConnectionError, serverUrl } from "../api-client";
import { CliUsageError } from "../command";
import { JOB_STATUSES, type JobStatus } from "../../jobs/status";

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: "boolean" }, status: { type: "string" }, server: { type: "string" } } });
  const status = values.status?.split(",").map((s) => s.trim());
  for (const s of status ?? []) if (!(JOB_STATUSES as readonly string[]).includes(s)) throw new CliUsageError(`--status: unknown status '${s}' (${JOB_STATUSES.join(", ")})`);
  const url = serverUrl(values.server);
  let jobs;
  try {
    jobs = await apiClient(url).jobs.list.query({ status: status as JobStatus[] | undefined });
  } catch (err) {
    throw describeConnectionError(err, url);
  }
  if (values.json) {
    const rows = jobs.map((j) => ({
      id: j.id,
      type: j.type,
      status: j.status,
      progress: j.progress,
      attempts: j.attempts,
      errorCode: j.errorCode,
      outputPath: j.outputPath,
      outputSha256: j.outputSha256,
    }));
    console.log(JSON.stringify(rows, null, 2));
    return 0;
  }
  if (jobs.length === 0) {
    console.log("no jobs");
    return 0;
  }
  for (const j of jobs)
    console.log(
      [j.id, j.type.padEnd(7), j.status.padEnd(9), `${(j.progress * 100).toFixed(0).padStart(3)}%`, `try ${j.attempts}`, j.errorCode ?? "", j.label].join("  "),
    );
  return 0;
}
