// Runs every test/unit/**/*.test.ts with node's built-in test runner (through tsx).
// Node 20's --test does not expand globs itself, so we list the files here.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}
const filter = process.argv.slice(2);
const files = collect("test/unit").filter((f) => filter.length === 0 || filter.some((s) => f.includes(s))).sort();
if (files.length === 0) {
  console.error("no unit test files found");
  process.exit(1);
}
// Tests run the `mergescope` command, which executes the compiled entry points: compile them first.
const build = spawnSync(process.execPath, ["scripts/build-node.mjs"], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
