// `npm test`: every suite in order — typecheck, unit (node:test), native C++
// (plain and ASan/UBSan), production build, browser e2e (Playwright + Chromium).
// Prints each suite's counts and a closing "N passed, N failed" line.
import { spawn, spawnSync } from "node:child_process";

function hasLibFuzzer() {
  const probe = spawnSync("sh", ["-c", "command -v clang++ >/dev/null && ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1"]);
  return probe.status === 0 ? null : "clang++ or libFuzzer not installed (apt-get install -y clang libclang-rt-14-dev)";
}

const suites = [
  { name: "typecheck", cmd: "npm", args: ["run", "-s", "typecheck"] },
  { name: "unit", cmd: "npm", args: ["run", "-s", "test:unit"] },
  { name: "native", cmd: "make", args: ["-C", "native", "-j2", "test"] },
  { name: "native-sanitizers", cmd: "make", args: ["-C", "native", "-j2", "SAN=1", "test"] },
  // libFuzzer over the safetensors / index.json / JSON parsers (~75 s); needs clang + libFuzzer
  // (Debian: clang libclang-rt-14-dev, installed by .ci/run) and is skipped, saying so, without them.
  { name: "fuzz", cmd: "node", args: ["scripts/fuzz.mjs", "--bounded"], needs: hasLibFuzzer },
  { name: "build", cmd: "npm", args: ["run", "-s", "build"] },
  { name: "e2e", cmd: "npx", args: ["playwright", "test"] },
];
const only = process.argv.slice(2);

// Counts per runner: node:test ("# pass N" / "# fail N"), native ("N passed, N failed"),
// Playwright ("N passed (..)", "N failed").
function count(output) {
  let passed = 0, failed = 0;
  for (const m of output.matchAll(/^# pass (\d+)$/gm)) passed += Number(m[1]);
  for (const m of output.matchAll(/^# fail (\d+)$/gm)) failed += Number(m[1]);
  for (const m of output.matchAll(/^(\d+) passed, (\d+) failed$/gm)) { passed += Number(m[1]); failed += Number(m[2]); }
  for (const m of output.matchAll(/^\s+(\d+) passed \(/gm)) passed += Number(m[1]);
  for (const m of output.matchAll(/^\s+(\d+) failed$/gm)) failed += Number(m[1]);
  return { passed, failed };
}

function run(suite) {
  return new Promise((resolve) => {
    const child = spawn(suite.cmd, suite.args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => { out += d; process.stdout.write(d); });
    child.stderr.on("data", (d) => { out += d; process.stderr.write(d); });
    child.on("close", (code) => resolve({ code: code ?? 1, ...count(out) }));
  });
}

let passed = 0, failed = 0;
const broken = [];
for (const suite of suites) {
  if (only.length > 0 && !only.includes(suite.name)) continue;
  const missing = suite.needs?.();
  if (missing) {
    console.log(`\n=== ${suite.name}: SKIPPED — ${missing}`);
    continue;
  }
  console.log(`\n=== ${suite.name}`);
  const t0 = Date.now();
  const r = await run(suite);
  passed += r.passed;
  failed += r.failed;
  console.log(`=== ${suite.name}: exit ${r.code}, ${r.passed} passed, ${r.failed} failed, ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  if (r.code !== 0) broken.push(suite.name);
}
if (broken.length > 0) console.log(`\nfailed suites: ${broken.join(", ")}`);
console.log(`${passed} passed, ${failed + (broken.length > 0 && failed === 0 ? broken.length : 0)} failed`);
process.exit(broken.length > 0 ? 1 : 0);
