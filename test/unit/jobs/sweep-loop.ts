// Test helper process: "host B" sweeping the shared output directory as a scale-out worker
// does (sweepStaleStaging), as fast as it can, reporting each sweep as one JSON line on
// stdout. The fault test runs it in its own UTS and PID namespaces, so its host name and
// the pids it can see differ from those of the worker merging on "host A".
import { setTimeout as sleep } from "node:timers/promises";
import { hostToken, sweepStaleStaging } from "../../../server/engine/output";

const dir = process.argv[2];
if (!dir) throw new Error("usage: sweep-loop.ts <output dir>");
process.stdout.write(`${JSON.stringify({ ready: true, host: hostToken(), pid: process.pid })}\n`);
// Runs until killed (the test ends it with SIGKILL).
for (let n = 1; ; n++) {
  const r = await sweepStaleStaging(dir);
  process.stdout.write(`${JSON.stringify({ n, removed: r.removed, restored: r.restored })}\n`);
  await sleep(20);
}
