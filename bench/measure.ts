// One measurement in its own process, so peak RSS belongs to that workload only.
// Prints a JSON line {seconds, maxRssBytes, ...}. Used by bench/run.ts.
//   floor:  read every input file once + write one output of the same size (fsync)
//   engine: a native merge or analysis of a NativeMergeRequest
//   engines: several analyses one after another (a worker running N jobs), bytes read summed
import { closeSync, fsyncSync, openSync, readSync, rmSync, statSync, writeSync } from "node:fs";
import { runNativeMerge } from "../server/engine/native-merge";
import type { NativeMergeRequest } from "../server/engine/types";

const CHUNK = 16 << 20;

function floor(inputs: string[], output: string, outputBytes: number): void {
  const buf = Buffer.allocUnsafe(CHUNK);
  for (const file of inputs) {
    const fd = openSync(file, "r");
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, pos);
      if (n === 0) break;
      pos += n;
    }
    closeSync(fd);
  }
  const fd = openSync(output, "w");
  for (let written = 0; written < outputBytes; ) {
    const n = writeSync(fd, buf, 0, Math.min(CHUNK, outputBytes - written));
    written += n;
  }
  fsyncSync(fd);
  closeSync(fd);
  rmSync(output);
}

const [kind, arg] = process.argv.slice(2);
const t0 = performance.now();
let extra: Record<string, unknown> = {};
if (kind === "floor") {
  const { inputs, output } = JSON.parse(arg!) as { inputs: string[]; output: string };
  floor(inputs, output, statSync(inputs[0]!).size);
} else if (kind === "engine") {
  const request = JSON.parse(arg!) as NativeMergeRequest;
  const r = await runNativeMerge(request);
  extra = { bytesRead: r.bytesRead, bytesWritten: r.bytesWritten, engineSeconds: r.seconds };
  if (request.outDir) rmSync(request.outDir, { recursive: true, force: true });
} else if (kind === "engines") {
  let bytesRead = 0;
  for (const request of JSON.parse(arg!) as NativeMergeRequest[]) bytesRead += (await runNativeMerge(request)).bytesRead;
  extra = { bytesRead };
} else {
  throw new Error(`unknown measurement ${kind}`);
}
const seconds = (performance.now() - t0) / 1000;
const usage = process.resourceUsage();
const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6; // whole process, every thread
console.log(JSON.stringify({ seconds, cpuSeconds, maxRssBytes: usage.maxRSS * 1024, ...extra }));
