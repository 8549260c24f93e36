// `npm run bench:scheduler`: a queue of 12 analysis-sweep jobs (6×6 density grids, one
// engine pass each) drained by the embedded queue's workers under the new defaults
// (one worker process whose scheduler gives each job the cores its share of the
// queue allows) and under the old rule (one process per core, one engine thread
// each: MERGESCOPE_WORKERS = cores reproduces it, as each process then owns one core).
// Modes alternate in every round so background load hits both; the ratio is
// old ÷ new wall time per round (median). `--repeat N` rounds (default 2).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { closeDb, db } from "../server/db/client";
import { resetEnvCache } from "../server/env";
import { generateModelFamily } from "../server/engine/synthetic/family";
import { enqueueJob } from "../server/jobs/client";

const { values } = parseArgs({ options: { repeat: { type: "string", default: "2" } } });
const repeat = Math.max(1, Number(values.repeat));
const root = path.resolve(import.meta.dirname, "..");
const cores = os.availableParallelism();
const JOBS = 12;
const GRID = [0.1, 0.2, 0.3, 0.5, 0.7, 1.0];

function recipe(ct: string, sft: number): string {
  return `merge_method: ties\nbase_model: ./base\nmodels:\n  - model: ./sft\n    parameters: {weight: 1.0, density: ${sft}}\n  - model: ./${ct}\n    parameters: {weight: 1.0, density: 1.0}\n`;
}

async function drain(family: string, cts: string[], workers: number): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ms-bench-sched-"));
  process.env.MERGESCOPE_DATA_DIR = path.join(dir, "data");
  process.env.MERGESCOPE_MODEL_ROOTS = `${family}:${dir}`;
  process.env.MERGESCOPE_WORKERS = String(workers);
  resetEnvCache();
  const procs: ChildProcess[] = [];
  try {
    const client = await db();
    const ids: string[] = [];
    // 12 distinct jobs: every checkpoint × SFT weights of the recipe's density (the grid itself is shared).
    for (let i = 0; i < JOBS; i++) {
      const ct = cts[i % cts.length]!;
      const sft = 0.15 + 0.05 * Math.floor(i / cts.length);
      const { job } = await enqueueJob({ type: "analyze-sweep", payload: { recipeYaml: recipe(ct, sft), recipeDir: family, densities: GRID } });
      ids.push(job.id);
    }
    const t0 = performance.now();
    for (let i = 0; i < workers; i++)
      procs.push(spawn(process.execPath, ["--import", "tsx", path.join(root, "server/worker/main.ts")], { cwd: root, env: process.env, stdio: ["ignore", "ignore", "inherit"] }));
    for (;;) {
      const failed = await client.job.findFirst({ where: { id: { in: ids }, status: "failed" } });
      if (failed) throw new Error(`job ${failed.id} failed: [${failed.errorCode}] ${failed.errorMessage}`);
      if ((await client.job.count({ where: { id: { in: ids }, status: "done" } })) === JOBS) break;
      await sleep(50);
    }
    // Worker start-up is part of both modes; the clock starts before the processes do.
    return (performance.now() - t0) / 1000;
  } finally {
    for (const p of procs) p.kill("SIGKILL");
    await closeDb();
    rmSync(dir, { recursive: true, force: true });
  }
}

const familyDir = mkdtempSync(path.join(os.tmpdir(), "ms-bench-sched-family-"));
try {
  generateModelFamily({ out: familyDir, hidden: 1024, layers: 4, intermediate: 2816, vocab: 32000, heads: 16, kvHeads: 4, ctCheckpoints: 3, tokensPerCheckpoint: 2, dtype: "bf16", seed: 7 });
  const cts = ["ct-2B", "ct-4B", "ct-6B"];
  const rounds: { fresh: number; old: number }[] = [];
  for (let r = 0; r < repeat; r++) {
    const fresh = await drain(familyDir, cts, 1);
    const old = await drain(familyDir, cts, cores);
    console.error(`[bench:scheduler] round ${r + 1}: new defaults ${fresh.toFixed(1)} s, one thread per worker × ${cores} workers ${old.toFixed(1)} s`);
    rounds.push({ fresh, old });
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  console.log(`\nMergeScope scheduler bench — ${JOBS} analyze-sweep jobs (6×6 grid each), ${cores} cores, ${repeat} round(s); load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}\n`);
  console.log("| defaults | seconds (median) | old ÷ new |");
  console.log("| --- | ---: | ---: |");
  console.log(`| new: 1 worker, scheduler | ${median(rounds.map((r) => r.fresh)).toFixed(1)} | |`);
  console.log(`| old: ${cores} workers × 1 thread | ${median(rounds.map((r) => r.old)).toFixed(1)} | ${median(rounds.map((r) => r.old / r.fresh)).toFixed(2)}× (rounds: ${rounds.map((r) => (r.old / r.fresh).toFixed(2)).join(" / ")}) |`);
} finally {
  rmSync(familyDir, { recursive: true, force: true });
}
process.exit(0);
