// `npm run bench:queue-vs-cli [-- --preset 0.25b,1.1b] [--repeat N]`: the same TIES merge
// (SFT density 0.2, CT 1.0, as `npm run bench`) run two ways, interleaved in each round:
//   cli: `mergescope merge RECIPE OUT` (the compiled CLI, a fresh process: start-up included)
//   api: the job queue: enqueued through the service the tRPC jobs router calls (enqueueJob),
//        claimed by an idle worker process (dist/node/worker.mjs, as `npm start` runs it) and
//        timed until the bench sees the job `done` in the database.
// Both use all cores (the CLI's default; the worker runs alone, MERGESCOPE_WORKERS=1) and
// start from a warm page cache (inputs read right before). Target: api ≤ 1.1× cli (median of
// the per-round ratios), after one untimed warm-up round. The job row's timestamps split the api time into enqueue, wait for a
// claim, and the worker's run; the worker's own log is kept for profiling.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { benchCacheDir, checkDiskSpace, ensureFamily, familyDir, familyFiles, type Family } from "./family";
import { BENCH_PRESETS } from "./presets";

const { values } = parseArgs({
  options: {
    preset: { type: "string", default: "0.25b,1.1b" },
    repeat: { type: "string", default: "3" },
  },
});
const presets = values.preset!.split(",").map((s) => s.trim()).filter(Boolean);
for (const p of presets) if (!BENCH_PRESETS[p]) throw new Error(`unknown preset ${p}; one of ${Object.keys(BENCH_PRESETS).join(", ")}`);
const repeat = Math.max(1, Number(values.repeat));
const TARGET = 1.1;
const POLL_MS = 20;
const root = path.resolve(import.meta.dirname, "..");
const cacheDir = benchCacheDir(root);
const workerEntry = path.join(root, "dist", "node", "worker.mjs");
const cliEntry = path.join(root, "bin", "mergescope.mjs");
if (!existsSync(workerEntry)) throw new Error(`${workerEntry} is missing: run \`npm run build\` (or \`npm install\`) first`);

// Families first (generation may take minutes), then one scratch dir and database for the run.
const families = new Map(presets.map((p) => [p, ensureFamily(cacheDir, p)] as const));
for (const p of presets) checkDiskSpace(cacheDir, p);
const scratch = mkdtempSync(path.join(cacheDir, "queue-vs-cli-"));
const dataDir = path.join(scratch, "data");
const outputDir = path.join(scratch, "merges");
Object.assign(process.env, {
  MERGESCOPE_DATA_DIR: dataDir,
  MERGESCOPE_OUTPUT_DIR: outputDir,
  MERGESCOPE_MODEL_ROOTS: presets.map((p) => familyDir(cacheDir, p)).join(":"),
  MERGESCOPE_WORKERS: "1",
  MERGESCOPE_DEMO: "0",
  MERGESCOPE_ROOT: root,
});
delete process.env.REDIS_URL;
// Imported after the environment is set: the env module validates it once.
const { resetEnvCache } = await import("../server/env");
resetEnvCache();
const { db, closeDb } = await import("../server/db/client");
const { enqueueJob } = await import("../server/jobs/client");

function recipeFile(f: Family, preset: string): string {
  const file = path.join(scratch, `ties-${preset}.yml`);
  writeFileSync(
    file,
    [
      "merge_method: ties",
      `base_model: ${f.base}`,
      "models:",
      `  - model: ${f.sft}`,
      "    parameters: {weight: 1.0, density: 0.2}",
      `  - model: ${f.ct}`,
      "    parameters: {weight: 1.0, density: 1.0}",
      "",
    ].join("\n"),
  );
  return file;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// ---------------------------------------------------------------- the worker

let worker: ChildProcess | null = null;
let finishedLines = 0; // "[worker …] merge <id>: done" lines: the worker is idle again after each
async function startWorker(): Promise<void> {
  const log = createWriteStream(path.join(scratch, "worker.log"));
  worker = spawn(process.execPath, [workerEntry], { cwd: root, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
  let started = false;
  worker.stdout!.on("data", (chunk: Buffer) => {
    const text = chunk.toString();
    log.write(text);
    if (text.includes("] started")) started = true;
    finishedLines += (text.match(/: (done|failed|queued)\n/g) ?? []).length;
  });
  worker.stderr!.on("data", (chunk: Buffer) => log.write(chunk));
  worker.once("exit", (code, signal) => {
    if (worker) console.error(`[bench:queue-vs-cli] worker exited (${signal ?? code}); see ${path.join(scratch, "worker.log")}`);
    worker = null;
  });
  for (let i = 0; !started; i++) {
    if (i > 3000 || !worker) throw new Error(`the worker did not start; see ${path.join(scratch, "worker.log")}`);
    await sleep(10);
  }
  await sleep(1000); // past its start-up reap and first idle poll
}

// ---------------------------------------------------------------- one measurement each way

function warm(f: Family): void {
  spawnSync("cat", familyFiles(f), { stdio: ["ignore", "ignore", "inherit"] });
}

function runCli(recipe: string, out: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cliEntry, "merge", recipe, out], { cwd: root, env: process.env, encoding: "utf8", maxBuffer: 16 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`mergescope merge failed (${r.status}): ${r.stderr}`);
  rmSync(out, { recursive: true, force: true });
  return seconds;
}

interface ApiRun {
  seconds: number;
  enqueue: number; // enqueueJob call (validation, recipe identity, insert)
  claimWait: number; // createdAt → startedAt (the worker's idle poll)
  run: number; // startedAt → finishedAt (payload check, merge, fenced completion)
  observe: number; // finishedAt → the bench seeing `done` (its own poll)
}

async function runApi(recipe: string, name: string): Promise<ApiRun> {
  const client = await db();
  const before = finishedLines;
  const t0 = performance.now();
  const wall0 = Date.now();
  const { job, created } = await enqueueJob({ type: "merge", payload: { recipeYaml: readRecipe(recipe), recipeDir: path.dirname(recipe), outputName: name } });
  const enqueue = (performance.now() - t0) / 1000;
  if (!created) throw new Error(`job ${job.id} already existed: the bench needs a fresh output name per run`);
  let row;
  for (;;) {
    row = await client.job.findUniqueOrThrow({ where: { id: job.id } });
    if (row.status === "done") break;
    if (row.status === "failed" || row.status === "cancelled") throw new Error(`job ${job.id} ${row.status}: [${row.errorCode}] ${row.errorMessage}`);
    if (!worker) throw new Error("the worker died");
    await sleep(POLL_MS);
  }
  const seconds = (performance.now() - t0) / 1000;
  const wallDone = wall0 + seconds * 1000;
  // The worker's after-completion work (registering the merged model) runs after `done`: let it
  // finish before the next measurement, outside the timing.
  while (finishedLines === before && worker) await sleep(POLL_MS);
  if (row.outputPath) rmSync(row.outputPath, { recursive: true, force: true });
  const created_ = row.createdAt.getTime();
  const started = row.startedAt!.getTime();
  const finished = row.finishedAt!.getTime();
  return { seconds, enqueue, claimWait: (started - created_) / 1000, run: (finished - started) / 1000, observe: (wallDone - finished) / 1000 };
}

const readRecipe = (file: string) => readFileSync(file, "utf8");

// ---------------------------------------------------------------- run

const results: { preset: string; cli: number[]; api: ApiRun[] }[] = [];
try {
  await db(); // creates the database (schema applied) before the worker opens it
  await startWorker();
  {
    // Untimed warm-up on the first family: the first enqueue in a process pays module loading and
    // the YAML worker thread's start (1.6 s here), which a running server has paid long before.
    const fam = families.get(presets[0]!)!;
    const recipe = recipeFile(fam, presets[0]!);
    runCli(recipe, path.join(scratch, "cli-warm-up"));
    await runApi(recipe, "bench-warm-up");
    console.error(`[bench:queue-vs-cli] warm-up round done`);
  }
  for (const preset of presets) {
    const fam = families.get(preset)!;
    const recipe = recipeFile(fam, preset);
    const res = { preset, cli: [] as number[], api: [] as ApiRun[] };
    for (let r = 0; r < repeat; r++) {
      // Alternate which path goes first, so neither always follows the other's writeback.
      const order = r % 2 === 0 ? (["cli", "api"] as const) : (["api", "cli"] as const);
      for (const way of order) {
        warm(fam);
        if (way === "cli") {
          const s = runCli(recipe, path.join(scratch, `cli-${preset}-${r}`));
          res.cli.push(s);
          console.error(`[bench:queue-vs-cli ${preset}] round ${r + 1}/${repeat} cli: ${s.toFixed(2)} s`);
        } else {
          const a = await runApi(recipe, `bench-${preset}-${r}`);
          res.api.push(a);
          console.error(
            `[bench:queue-vs-cli ${preset}] round ${r + 1}/${repeat} api: ${a.seconds.toFixed(2)} s (enqueue ${(a.enqueue * 1000).toFixed(0)} ms, claim wait ${(a.claimWait * 1000).toFixed(0)} ms, worker run ${a.run.toFixed(2)} s, observed after ${(a.observe * 1000).toFixed(0)} ms)`,
          );
        }
      }
    }
    results.push(res);
  }
} finally {
  const w = worker as ChildProcess | null;
  worker = null;
  w?.kill("SIGTERM");
  await closeDb();
}

// ---------------------------------------------------------------- report

const ms = (s: number) => `${(s * 1000).toFixed(0)}`;
const lines: string[] = [];
lines.push(`### Queue vs CLI (${new Date().toISOString().slice(0, 10)})`, "");
lines.push(`- machine: ${os.cpus()[0]?.model.trim() ?? "?"}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM; Node ${process.version}; load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(" / ")}`);
lines.push(`- ties (sft 0.2, ct 1.0) on the bench's bf16 families; ${repeat} round(s), cli and api interleaved (order alternating); inputs read right before each measurement (warm page cache); seconds = median; ratio = median of the per-round api/cli ratios`);
lines.push(`- cli = \`mergescope merge\` process, start to exit; api = enqueueJob (the jobs router's service) → an idle worker (one, all cores) claims it → \`done\` seen by the bench (polling every ${POLL_MS} ms); api columns split its time by the job row's timestamps (medians)`, "");
lines.push(`| family | cli s | api s | api / cli | target | enqueue ms | claim wait ms | worker run s | seen after ms |`);
lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of results) {
  const ratio = median(r.api.map((a, i) => a.seconds / r.cli[i]!));
  const m = (f: (a: ApiRun) => number) => median(r.api.map(f));
  lines.push(
    `| ${r.preset} | ${median(r.cli).toFixed(2)} | ${m((a) => a.seconds).toFixed(2)} | ${ratio.toFixed(2)} | ≤ ${TARGET}× ${ratio <= TARGET ? "✓" : "✗"} | ${ms(m((a) => a.enqueue))} | ${ms(m((a) => a.claimWait))} | ${m((a) => a.run).toFixed(2)} | ${ms(m((a) => a.observe))} |`,
  );
}
console.log("\n" + lines.join("\n"));
rmSync(scratch, { recursive: true, force: true });
process.exit(0);
