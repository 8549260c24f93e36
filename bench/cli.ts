// `npm run bench:cli`: start-up time of the `mergescope` command. Runs
// `mergescope --help` and a bare `node -e 0` alternately (same conditions for
// both) and reports the medians; the target is --help in <= 150 ms.
import { spawnSync } from "node:child_process";
import path from "node:path";

const ROUNDS = Number(process.env.BENCH_CLI_ROUNDS ?? 21);
const TARGET_MS = 150;
const root = path.resolve(import.meta.dirname, "..");

function wallMs(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} failed: ${r.stderr.toString()}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const help: number[] = [];
const bare: number[] = [];
wallMs(["bin/mergescope.mjs", "--help"]); // warm the file cache
for (let i = 0; i < ROUNDS; i++) {
  help.push(wallMs(["bin/mergescope.mjs", "--help"]));
  bare.push(wallMs(["-e", "0"]));
}
const h = median(help);
const b = median(bare);
console.log("| command | median ms | × node -e 0 | target |");
console.log("| --- | ---: | ---: | ---: |");
console.log(`| node -e 0 | ${b.toFixed(0)} | 1.00 | |`);
console.log(`| mergescope --help | ${h.toFixed(0)} | ${(h / b).toFixed(2)} | ≤ ${TARGET_MS} ms ${h <= TARGET_MS ? "✓" : "✗"} |`);
console.log(`\n${ROUNDS} rounds, interleaved; Node ${process.version}, ${process.platform}/${process.arch}.`);
