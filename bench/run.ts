// `npm run bench [-- --preset 1.1b|0.25b] [--repeat N]`: merge speed and memory
// against the I/O floor, measured in the same run (ratios, not absolute times,
// are what compare across noisy machines). The model family is generated once
// under bench/.cache. Each figure is the median of --repeat runs (default 3).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { generateModelFamily } from "../server/engine/synthetic/family";
import { llamaParameterCount } from "../server/engine/synthetic/llama";
import type { NativeMergeRequest } from "../server/engine/types";
import { BENCH_PRESETS } from "./presets";

const { values } = parseArgs({
  options: {
    preset: { type: "string", default: "1.1b" },
    repeat: { type: "string", default: "3" },
  },
});
const presetName = values.preset!;
const shape = BENCH_PRESETS[presetName];
if (!shape) throw new Error(`unknown preset ${presetName}; one of ${Object.keys(BENCH_PRESETS).join(", ")}`);
const repeat = Math.max(1, Number(values.repeat));

const root = path.resolve(import.meta.dirname, "..");
const familyDir = path.join(root, "bench", ".cache", `llama-${presetName}-bf16`);
const ready = path.join(familyDir, ".complete");
if (!existsSync(ready)) {
  console.error(`generating the ${presetName} bf16 family (base, sft, one CT checkpoint) in ${familyDir} ...`);
  generateModelFamily({ ...shape, out: familyDir, ctCheckpoints: 1, tokensPerCheckpoint: 8, dtype: "bf16", seed: 7, overwrite: true });
  mkdirSync(familyDir, { recursive: true });
  spawnSync("touch", [ready]);
}
const base = path.join(familyDir, "base");
const sft = path.join(familyDir, "sft");
const ct = path.join(familyDir, "ct-8B");
const scratch = mkdtempSync(path.join(familyDir, "..", "run-"));

function measure(kind: string, arg: unknown): { seconds: number; maxRssBytes: number } {
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "bench", "measure.ts"), kind, JSON.stringify(arg)], {
    encoding: "utf8",
    env: { ...process.env, MERGESCOPE_ROOT: root },
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${kind} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const tiesRequest = (outDir: string | null): NativeMergeRequest => ({
  method: "ties",
  consensus: "sum",
  normalize: true,
  lambda: 1,
  computeDtype: "storage",
  outDtype: null,
  slack: 0,
  slackScope: "model",
  basePath: base,
  models: [
    { path: sft, weight: 1, density: 0.2, favored: true },
    { path: ct, weight: 1, density: 1, favored: false },
  ],
  outDir,
  shardSizeBytes: 5e9,
  threads: 0,
});

const workloads: { name: string; run: () => { seconds: number; maxRssBytes: number } }[] = [
  {
    name: "floor (read 3 + write 1)",
    run: () => measure("floor", { inputs: [base, sft, ct].map((d) => path.join(d, "model.safetensors")), output: path.join(scratch, "floor.bin") }),
  },
  {
    name: "ties (sft 0.2, ct 1.0)",
    run: () => {
      const out = path.join(scratch, "ties");
      mkdirSync(out);
      return measure("engine", tiesRequest(out));
    },
  },
  { name: "analysis only (ties stats)", run: () => measure("engine", tiesRequest(null)) },
];

// Warm the page cache so every workload starts from the same state.
measure("floor", { inputs: [base, sft, ct].map((d) => path.join(d, "model.safetensors")), output: path.join(scratch, "warm.bin") });
const rows = workloads.map((w) => {
  const runs = Array.from({ length: repeat }, () => w.run());
  return { name: w.name, seconds: median(runs.map((r) => r.seconds)), rss: Math.max(...runs.map((r) => r.maxRssBytes)) };
});
rmSync(scratch, { recursive: true, force: true });

const floorSeconds = rows[0]!.seconds;
const params = llamaParameterCount(shape);
console.log(`\nMergeScope bench — ${presetName} Llama family, ${(params / 1e9).toFixed(2)}B params/model, bf16, 3 models`);
console.log(`machine: ${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; median of ${repeat}\n`);
console.log("| workload | seconds | × floor | peak RSS |");
console.log("| --- | ---: | ---: | ---: |");
for (const r of rows)
  console.log(`| ${r.name} | ${r.seconds.toFixed(2)} | ${(r.seconds / floorSeconds).toFixed(2)} | ${(r.rss / 2 ** 30).toFixed(2)} GiB |`);
