#!/usr/bin/env node
// libFuzzer runs over the parsers of the native core (native/fuzz/):
// fuzz_safetensors_header, fuzz_index_json, fuzz_json, built by
// native/fuzz/Makefile with clang++ -fsanitize=fuzzer,address,undefined.
//
//   npm run fuzz                    long run: 600 s per target (FUZZ_SECONDS=N overrides),
//                                   targets in parallel on up to FUZZ_JOBS (default: #CPUs) cores
//   npm run fuzz:bounded            = node scripts/fuzz.mjs --bounded: ~60 s in total
//                                   (20 s per target, one after the other); for the test suite
//   node scripts/fuzz.mjs --merge   fold what the runs found (native/out/fuzz/work/<target>) into the
//                                   committed corpus native/fuzz/corpus/<target>, minimized with
//                                   libFuzzer -merge=1: the seed-* files are always kept, other units
//                                   (<= 2 KB) only if they add coverage beyond the seeds
//   node scripts/fuzz.mjs [options] fuzz_json ...   only the named targets
//
// A finding is any crash, sanitizer report, leak, unexpected exception or
// violated invariant (the harness aborts), timeout (-timeout=10 s per input)
// or memory use above 512 MB (-rss_limit_mb=512, -malloc_limit_mb=512).
// Findings are saved under native/out/fuzz/artifacts/<target>/ and the
// script exits 1. Turn each into a regression test: copy the file to
// native/tests/fuzz-regressions/<target>/<EXPECTED>--<what> (see
// native/tests/test_fuzz_regressions.cc). Closing line: "N passed, N failed"
// with N = targets.
//
// Needs clang++ with the libFuzzer and sanitizer runtimes (Debian 12:
// apt-get install clang libclang-rt-14-dev llvm); exits 2 with a message if
// they are missing.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const native = path.join(root, "native");
const outDir = path.join(native, "out/fuzz");
const ALL = ["fuzz_safetensors_header", "fuzz_index_json", "fuzz_json"];
const APT = "clang libclang-rt-14-dev llvm";

const args = process.argv.slice(2);
const bounded = args.includes("--bounded");
const mergeOnly = args.includes("--merge");
const unknown = args.filter((a) => a.startsWith("-") && !["--bounded", "--merge"].includes(a));
const named = args.filter((a) => !a.startsWith("-")).map((a) => (a.startsWith("fuzz_") ? a : `fuzz_${a}`));
if (unknown.length > 0 || named.some((t) => !ALL.includes(t))) {
  console.error(`usage: node scripts/fuzz.mjs [--bounded | --merge] [${ALL.join(" ")}]`);
  process.exit(2);
}
const targets = named.length > 0 ? named : ALL;
const envSeconds = Number(process.env.FUZZ_SECONDS);
const seconds = Number.isFinite(envSeconds) && envSeconds > 0 ? envSeconds : bounded ? 20 : 600;
const envJobs = Number(process.env.FUZZ_JOBS);
const jobs = bounded ? 1 : Math.max(1, Math.min(targets.length, envJobs > 0 ? envJobs : os.cpus().length));

const closing = (passed, failed) => console.log(`${passed} passed, ${failed} failed`);
const die = (msg, code = 1) => {
  console.error(msg);
  closing(0, targets.length);
  process.exit(code);
};

// ---------------------------------------------------------------- toolchain
const clangxx = process.env.CLANGXX || "clang++";
function toolchainProblem() {
  const v = spawnSync(clangxx, ["--version"], { encoding: "utf8" });
  if (v.error || v.status !== 0) return `${clangxx} not found`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ms-fuzz-probe-"));
  try {
    const src = path.join(dir, "probe.cc");
    fs.writeFileSync(src, 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n');
    const c = spawnSync(clangxx, ["-fsanitize=fuzzer,address,undefined", src, "-o", path.join(dir, "probe")], {
      encoding: "utf8",
    });
    if (c.error || c.status !== 0)
      return `${clangxx} cannot link -fsanitize=fuzzer,address,undefined (libFuzzer / sanitizer runtime missing):\n${(c.stderr || "").trim().split("\n").slice(-3).join("\n")}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return null;
}
const problem = toolchainProblem();
if (problem)
  die(
    `[fuzz] ${problem}\n[fuzz] The fuzz targets need clang++ with libFuzzer and the ASan/UBSan runtimes.\n` +
      `[fuzz] On Debian 12: apt-get install -y ${APT}   (or set CLANGXX to a clang++ that has them)`,
    2,
  );

// ---------------------------------------------------------------- build
console.log(`[fuzz] building ${targets.join(", ")} (make -C native/fuzz)`);
const mk = spawnSync("make", ["-C", path.join(native, "fuzz"), `-j${os.cpus().length}`, ...targets.map((t) => `../out/fuzz/${t}`)], {
  stdio: "inherit",
  env: { ...process.env, CLANGXX: clangxx },
});
if (mk.status !== 0) die("[fuzz] build failed");

// Sanitizer settings: abort on the first report, leaks count, keep the ASan
// quarantine small so that long runs stay well under the 512 MB RSS limit.
const symbolizer = ["llvm-symbolizer", "llvm-symbolizer-14"]
  .map((s) => spawnSync("sh", ["-c", `command -v ${s}`], { encoding: "utf8" }).stdout.trim())
  .find((s) => s);
const env = {
  ...process.env,
  ASAN_OPTIONS: process.env.ASAN_OPTIONS || "quarantine_size_mb=64:detect_leaks=1:abort_on_error=0:symbolize=1",
  UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || "print_stacktrace=1:halt_on_error=1",
  ...(symbolizer && !process.env.ASAN_SYMBOLIZER_PATH ? { ASAN_SYMBOLIZER_PATH: symbolizer } : {}),
};

const short = (t) => t.replace(/^fuzz_/, "");
const corpusDir = (t) => path.join(native, "fuzz/corpus", short(t));
const workDir = (t) => path.join(outDir, "work", short(t));
const artDir = (t) => path.join(outDir, "artifacts", short(t));
const logFile = (t) => path.join(outDir, "logs", `${short(t)}.log`);
const dictFile = (t) => path.join(native, "fuzz", `${short(t)}.dict`);
const rel = (p) => path.relative(root, p);
const listFiles = (d) => (fs.existsSync(d) ? fs.readdirSync(d).filter((f) => !f.startsWith(".")) : []);
const dirBytes = (d) => listFiles(d).reduce((s, f) => s + fs.statSync(path.join(d, f)).size, 0);

function run(cmd, argv, onLine) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let buf = "";
    const feed = (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    };
    child.stdout.on("data", feed);
    child.stderr.on("data", feed);
    child.on("close", (code, signal) => {
      children.delete(child);
      if (buf) onLine(buf);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}
const children = new Set();
let interrupted = false;
process.on("SIGINT", () => {
  interrupted = true;
  for (const c of children) c.kill("SIGINT");
});

// ---------------------------------------------------------------- --merge
if (mergeOnly) {
  const MAX_UNIT = 2048;
  let failed = 0;
  for (const t of targets) {
    const bin = path.join(outDir, t);
    const corpus = corpusDir(t);
    const tmp = path.join(outDir, "merge", short(t));
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    // The seeds are the initial corpus; other units are kept only if they add
    // coverage to it (libFuzzer -merge=1 picks the smallest such units).
    const seeds = listFiles(corpus).filter((f) => f.startsWith("seed-"));
    for (const f of seeds) fs.copyFileSync(path.join(corpus, f), path.join(tmp, f));
    // Candidates: the committed non-seed units and the runs' work corpus, at
    // most MAX_UNIT bytes each (keeps the committed corpus well under 1 MB).
    const others = path.join(outDir, "merge", `${short(t)}-candidates`);
    fs.rmSync(others, { recursive: true, force: true });
    fs.mkdirSync(others, { recursive: true });
    const candidates = [
      ...listFiles(corpus).filter((f) => !f.startsWith("seed-")).map((f) => path.join(corpus, f)),
      ...listFiles(workDir(t)).map((f) => path.join(workDir(t), f)),
    ];
    let skipped = 0;
    for (const p of candidates) {
      if (fs.statSync(p).size > MAX_UNIT) { ++skipped; continue; }
      fs.copyFileSync(p, path.join(others, path.basename(p)));
    }
    const before = listFiles(corpus).length;
    const log = [];
    const code = await run(bin, ["-merge=1", "-rss_limit_mb=512", "-timeout=10", tmp, others], (l) => log.push(l));
    if (code !== 0 || interrupted) {
      console.log(log.slice(-20).join("\n"));
      console.log(`[fuzz] ${t}: merge failed (exit ${code})`);
      ++failed;
      continue;
    }
    for (const f of listFiles(corpus).filter((f) => !f.startsWith("seed-"))) fs.rmSync(path.join(corpus, f));
    for (const f of listFiles(tmp).filter((f) => !f.startsWith("seed-"))) fs.copyFileSync(path.join(tmp, f), path.join(corpus, f));
    const after = listFiles(corpus).length;
    console.log(
      `[fuzz] ${t}: corpus ${before} -> ${after} files (${seeds.length} seeds), ${dirBytes(corpus)} bytes` +
        (skipped ? ` (${skipped} candidate units above ${MAX_UNIT} bytes left out)` : ""),
    );
  }
  const total = ALL.reduce((s, t) => s + dirBytes(corpusDir(t)), 0);
  console.log(`[fuzz] committed corpus: ${total} bytes${total > 1 << 20 ? " -- above 1 MB: consider -max_len or pruning" : ""}`);
  closing(targets.length - failed, failed);
  process.exit(failed > 0 ? 1 : 0);
}

// ---------------------------------------------------------------- fuzzing
const FINDING = /^(crash|leak|timeout|oom)-/;
async function fuzz(t) {
  for (const d of [workDir(t), artDir(t), path.dirname(logFile(t))]) fs.mkdirSync(d, { recursive: true });
  const artBefore = new Set(listFiles(artDir(t)));
  const argv = [
    workDir(t),
    corpusDir(t),
    `-dict=${dictFile(t)}`,
    `-max_total_time=${seconds}`,
    "-rss_limit_mb=512",
    "-malloc_limit_mb=512",
    "-timeout=10",
    "-use_value_profile=1",
    "-print_final_stats=1",
    `-artifact_prefix=${artDir(t)}${path.sep}`,
  ];
  const log = fs.createWriteStream(logFile(t));
  log.write(`$ ${rel(path.join(outDir, t))} ${argv.join(" ")}\n`);
  const s = { status: "", stats: {}, errors: [] };
  const t0 = Date.now();
  let lastBeat = Date.now();
  const code = await run(path.join(outDir, t), argv, (line) => {
    log.write(line + "\n");
    if (/ cov: \d+ ft: \d+/.test(line)) s.status = line;
    const m = line.match(/^stat::(\w+):\s+(\d+)/);
    if (m) s.stats[m[1]] = Number(m[2]);
    if (/ERROR|BUG:|SUMMARY|runtime error|Test unit written/.test(line)) s.errors.push(line);
    if (!bounded && Date.now() - lastBeat > 60000 && s.status) {
      lastBeat = Date.now();
      console.log(`[fuzz] ${t} ${Math.round((Date.now() - t0) / 1000)}s: ${s.status.replace(/\s+/g, " ")}`);
    }
  });
  await new Promise((r) => log.end(r));
  const found = listFiles(artDir(t)).filter((f) => FINDING.test(f) && !artBefore.has(f));
  const cov = s.status.match(/cov: (\d+) ft: (\d+) corp: (\d+)\/(\S+)/);
  return { t, code, found, s, cov, secs: (Date.now() - t0) / 1000 };
}

console.log(
  `[fuzz] ${bounded ? "bounded" : "long"} run: ${seconds} s per target, ${jobs} at a time; ` +
    `-rss_limit_mb=512 -timeout=10; logs in ${rel(path.join(outDir, "logs"))}/`,
);
const queue = [...targets];
const results = [];
await Promise.all(
  Array.from({ length: jobs }, async () => {
    while (queue.length > 0 && !interrupted) results.push(await fuzz(queue.shift()));
  }),
);

let passed = 0, failed = 0;
for (const t of targets) {
  const r = results.find((x) => x.t === t);
  if (!r) { ++failed; console.log(`[fuzz] ${t}: not run`); continue; }
  const st = r.s.stats;
  const cov = r.cov ? `cov ${r.cov[1]}, ft ${r.cov[2]}, corpus ${r.cov[3]} units/${r.cov[4]}` : "no coverage line";
  const line =
    `${t}: ${r.secs.toFixed(0)} s, ${st.number_of_executed_units ?? "?"} runs (${st.average_exec_per_sec ?? "?"}/s), ` +
    `${cov}, ${st.new_units_added ?? "?"} new units, peak RSS ${st.peak_rss_mb ?? "?"} MB`;
  const ok = r.code === 0 && r.found.length === 0 && !interrupted;
  if (ok) {
    ++passed;
    console.log(`[fuzz] PASS ${line}`);
  } else {
    ++failed;
    console.log(`[fuzz] FAIL ${line} (exit ${r.code}${interrupted ? ", interrupted" : ""})`);
    for (const e of r.s.errors.slice(0, 8)) console.log(`         ${e}`);
    for (const f of r.found) {
      const p = path.join(artDir(t), f);
      console.log(`         finding: ${rel(p)}\n         reproduce: ${rel(path.join(outDir, t))} ${rel(p)}`);
    }
    console.log(`         full log: ${rel(logFile(t))}`);
  }
}
if (!bounded && failed === 0)
  console.log("[fuzz] to keep what these runs found as seeds: node scripts/fuzz.mjs --merge (then commit native/fuzz/corpus)");
closing(passed, failed);
process.exit(failed > 0 ? 1 : 0);
