// `npm run bench [-- --preset 0.25b,1.1b] [--repeat N] [--rows della,sce,sweep]`: whole-model merge
// speed and memory against the I/O floor, measured in the same run (ratios,
// not absolute times, are what compare across noisy machines). Each model
// family is generated once under bench/.cache. Every round runs each workload
// once, interleaved (floor, ties, ...), so background load hits all rows
// alike; a row's "× floor" is the median over rounds of its time divided by
// the floor's time in the same round. Prints Markdown for the README.
//
// Adding a row = one entry in WORKLOADS. `--rows` keeps the floor and the rows whose name
// starts with one of the given words. MERGESCOPE_BENCH_CACHE overrides the cache folder
// (e.g. one family shared by several checkouts).
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { inspectModel } from "../server/engine/native-merge";
import { buildMergePlan } from "../server/engine/plan/build";
import { parseRecipeYaml, recipeToNativeRequest } from "../server/engine/recipe";
import { generateModelFamily } from "../server/engine/synthetic/family";
import { llamaParameterCount } from "../server/engine/synthetic/llama";
import type { NativeMergeRequest, NativeModelInput } from "../server/engine/types";
import { BENCH_PRESETS } from "./presets";

const { values } = parseArgs({
  options: {
    preset: { type: "string", default: "0.25b,1.1b" },
    repeat: { type: "string", default: "3" },
    // comma-separated substrings of row names: run only those rows (plus the floor and compared rows)
    rows: { type: "string" },
  },
});
const presetNames = values.preset!.split(",").map((s) => s.trim()).filter(Boolean);
for (const p of presetNames)
  if (!BENCH_PRESETS[p]) throw new Error(`unknown preset ${p}; one of ${Object.keys(BENCH_PRESETS).join(", ")}`);
const repeat = Math.max(1, Number(values.repeat));
const root = path.resolve(import.meta.dirname, "..");
// MERGESCOPE_BENCH_CACHE: share one generated family (~7.6 GB) between checkouts.
const cacheDir = process.env.MERGESCOPE_BENCH_CACHE ? path.resolve(process.env.MERGESCOPE_BENCH_CACHE) : path.join(root, "bench", ".cache");

interface Family {
  base: string;
  sft: string;
  ct: string;
}

// ---------------------------------------------------------------- workloads

/** A neutral request (every field of the contract), overridden per workload. */
function request(f: Family, outDir: string | null, over: Partial<NativeMergeRequest> = {}, models?: Partial<NativeModelInput>[]): NativeMergeRequest {
  const base: NativeModelInput[] = [
    { path: f.sft, weight: 1, density: 0.2, favored: true, gamma: 0.01, epsilon: 0.15 },
    { path: f.ct, weight: 1, density: 1, favored: false, gamma: 0.01, epsilon: 0.15 },
  ];
  return {
    method: "ties",
    consensus: "sum",
    normalize: true,
    lambda: 1,
    computeDtype: "storage",
    outDtype: null,
    slack: 0,
    slackScope: "model",
    rescale: false,
    seed: 0,
    randomStream: "counter",
    tieOrder: "mergekit",
    keepIfNoOutliers: false,
    t: 0.5,
    filterWise: false,
    densities: null,
    basePath: f.base,
    models: base.map((m, i) => ({ ...m, ...(models?.[i] ?? {}) })),
    outDir,
    shardSizeBytes: 5e9,
    threads: 0,
    ...over,
  };
}

interface Workload {
  name: string;
  /** null: the floor (read the 3 inputs + write 1 output of the same size, fsync). */
  request: ((f: Family, outDir: string | null) => NativeMergeRequest) | null;
  writes: boolean; // the request writes a merged model (outDir set)
  target?: number; // × floor
  /** Also report the median per-round ratio to another row (by name), with an optional target. */
  versus?: { row: string; target?: number };
  /** Also report the median per-round speed-up over another row (its time / this row's), with an optional floor. */
  speedup?: { over: string; target?: number };
}

// Thread scaling: the same CPU-bound workload on 1 and on 2 engine threads, run back to back in
// every round; the 2-thread row reports the median per-round speed-up (target >= 1.6x).
const THREAD_SCALING_TARGET = 1.6;
const threadRows = (name: string, req: (f: Family) => NativeMergeRequest): Workload[] => [
  { name: `${name}, 1 thread`, request: (f) => ({ ...req(f), threads: 1 }), writes: false },
  {
    name: `${name}, 2 threads`,
    request: (f) => ({ ...req(f), threads: 2 }),
    writes: false,
    speedup: { over: `${name}, 1 thread`, target: THREAD_SCALING_TARGET },
  },
];

/**
 * Layer swap as mergekit slices (passthrough): the bottom quarter and the top eighth of the
 * layers from the CT model, the middle from the SFT model; every tensor is read from one model.
 * The plan (tensor headers → per-tensor inputs, a few ms) is built here, outside the timing.
 */
function layerSwapRequest(f: Family, outDir: string | null): NativeMergeRequest {
  const layers = inspectModel(f.ct).tensors.reduce((n, t) => Math.max(n, Number(/\.layers\.(\d+)\./.exec(t.name)?.[1] ?? -1) + 1), 0);
  const bottom = Math.floor(layers / 4);
  const top = layers - Math.floor(layers / 8);
  const yaml = [
    "merge_method: passthrough",
    "slices:",
    `  - sources: [{model: ${f.ct}, layer_range: [0, ${bottom}]}]`,
    `  - sources: [{model: ${f.sft}, layer_range: [${bottom}, ${top}]}]`,
    `  - sources: [{model: ${f.ct}, layer_range: [${top}, ${layers}]}]`,
  ].join("\n");
  const recipe = parseRecipeYaml(yaml, { recipeDir: root });
  const { plan } = buildMergePlan(recipe, (p) => inspectModel(p).tensors.map((t) => t.name));
  return recipeToNativeRequest(recipe, { outDir, shardSizeBytes: 5e9, threads: 0, plan });
}

const ALL_WORKLOADS: Workload[] = [
  { name: "floor (read 3 + write 1)", request: null, writes: true },
  {
    name: "ties (sft 0.2, ct 1.0)",
    request: (f, out) => request(f, out),
    writes: true,
    target: 2,
    // mergekit's tie order (the default) costs at most 1.3x the lowest-index rule
    versus: { row: "ties, index tie order", target: 1.3 },
  },
  { name: "ties, index tie order", request: (f, out) => request(f, out, { tieOrder: "index" }), writes: true },
  { name: "ties_sv (slack 0.04)", request: (f, out) => request(f, out, { method: "ties_sv", slack: 0.04 }), writes: true, target: 2.5 },
  { name: "analysis only (ties stats)", request: (f) => request(f, null), writes: false },
  { name: "dare_ties (sft 0.2, ct 1.0)", request: (f, out) => request(f, out, { method: "dare_ties", rescale: true, seed: 1 }), writes: true },
  {
    name: "della (sft 0.2 ε 0.1, ct 1.0)",
    request: (f, out) => request(f, out, { method: "della", randomStream: "mergekit", seed: 1 }, [{ epsilon: 0.1 }]),
    writes: true,
  },
  // The paper's grid for both models: 36 analyses from one pass (target: <= 1.5x one analysis).
  {
    name: "6×6 density sweep (ties stats)",
    request: (f) => request(f, null, { densities: [0.01, 0.2, 0.4, 0.6, 0.8, 1.0] }),
    writes: false,
    versus: { row: "analysis only (ties stats)", target: 1.5 },
  },
  { name: "passthrough layer swap (2 models, 3 slices)", request: layerSwapRequest, writes: true },
  // mergekit's newer methods (storage-dtype compute, as mergekit without `dtype`)
  { name: "sce (select_topk 0.2)", request: (f, out) => request(f, out, { method: "sce", selectTopk: 0.2 }), writes: true },
  { name: "nuslerp (flatten, base, weights 1/1)", request: (f, out) => request(f, out, { method: "nuslerp" }), writes: true },
  // Thread scaling of the CPU-bound workloads (statistics only: no disk writes in the timing).
  ...threadRows("analysis only (ties stats)", (f) => request(f, null)),
  ...threadRows("6×6 density sweep", (f) => request(f, null, { densities: [0.01, 0.2, 0.4, 0.6, 0.8, 1.0] })),
  ...threadRows("ties_sv stats (slack 0.04)", (f) => request(f, null, { method: "ties_sv", slack: 0.04 })),
];
for (const w of ALL_WORKLOADS)
  for (const other of [w.versus?.row, w.speedup?.over])
    if (other !== undefined && !ALL_WORKLOADS.some((x) => x.name === other)) throw new Error(`bench row "${w.name}" compares with a missing row "${other}"`);
const rowFilter = values.rows?.split(",").map((s) => s.trim()).filter(Boolean);
const picked = new Set(ALL_WORKLOADS.filter((w) => !w.request || !rowFilter || rowFilter.some((f) => w.name.includes(f))).map((w) => w.name));
for (const w of ALL_WORKLOADS) {
  if (picked.has(w.name) && w.versus) picked.add(w.versus.row);
  if (picked.has(w.name) && w.speedup) picked.add(w.speedup.over);
}
const WORKLOADS = ALL_WORKLOADS.filter((w) => picked.has(w.name));
const RSS_TARGET_BYTES = 2.5e9;
const rowIndex = (name: string) => WORKLOADS.findIndex((w) => w.name === name);

// ---------------------------------------------------------------- helpers

function measure(kind: string, arg: unknown): { seconds: number; maxRssBytes: number; cpuSeconds: number } {
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
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function run(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Largest tensor of a safetensors file: [name, elements]. */
function largestTensor(file: string): [string, number] {
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(8);
    readSync(fd, head, 0, 8, 0);
    const n = Number(head.readBigUInt64LE(0));
    const json = Buffer.alloc(n);
    readSync(fd, json, 0, n, 8);
    const header = JSON.parse(json.toString("utf8")) as Record<string, { shape?: number[] }>;
    let best: [string, number] = ["", 0];
    for (const [name, t] of Object.entries(header)) {
      if (name === "__metadata__" || !t.shape) continue;
      const numel = t.shape.reduce((a, b) => a * b, 1);
      if (numel > best[1]) best = [name, numel];
    }
    return best;
  } finally {
    closeSync(fd);
  }
}

/** Fraction of the files' pages in the page cache (fincore), or null if unknown. */
function residentFraction(files: string[]): number | null {
  const out = run("fincore", ["--bytes", "--noheadings", "--raw", "--output", "RES,SIZE", ...files]);
  if (out === null) return null;
  let res = 0;
  let size = 0;
  for (const line of out.split("\n")) {
    const [r, s] = line.trim().split(/\s+/).map(Number);
    res += r ?? 0;
    size += s ?? 0;
  }
  return size > 0 ? res / size : null;
}

function diskDescription(dir: string): string {
  const df = run("df", ["-PTk", dir])?.split("\n")[1]?.split(/\s+/);
  if (!df) return "?";
  const [dev, fstype, kblocks] = df;
  let kind = "";
  const name = dev?.replace(/^\/dev\//, "").replace(/p?\d+$/, "");
  const rota = name ? run("cat", [`/sys/block/${name}/queue/rotational`]) : null;
  if (rota === "0") kind = ", non-rotational";
  else if (rota === "1") kind = ", reports rotational";
  return `${dev} ${fstype}, ${(Number(kblocks) / 2 ** 20).toFixed(0)} GiB${kind}`;
}

/** Proactive reclaim evicts cold page-cache pages during a run: worth knowing when reading the figures. */
function damon(): string {
  return run("cat", ["/sys/module/damon_reclaim/parameters/enabled"]) === "Y" || run("pgrep", ["-x", "kdamond.0"])
    ? "; note: a DAMON thread (kdamond) runs on this machine and may reclaim cold page-cache pages during a run"
    : "";
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

// ---------------------------------------------------------------- run

interface PresetResult {
  preset: string;
  params: number;
  fileBytes: number;
  largest: [string, number];
  rows: { w: Workload; seconds: number; ratio: number; rss: number; versus: number; speedup: number; cpu: number }[];
  resident: number | null; // min over rounds, before each round
}

function ensureFamily(preset: string): Family {
  const dir = path.join(cacheDir, `llama-${preset}-bf16`);
  if (!existsSync(path.join(dir, ".complete"))) {
    console.error(`generating the ${preset} bf16 family (base, sft, one CT checkpoint) in ${dir} ...`);
    generateModelFamily({ ...BENCH_PRESETS[preset]!, out: dir, ctCheckpoints: 1, tokensPerCheckpoint: 8, dtype: "bf16", seed: 7, overwrite: true });
    mkdirSync(dir, { recursive: true });
    spawnSync("touch", [path.join(dir, ".complete")]);
  }
  return { base: path.join(dir, "base"), sft: path.join(dir, "sft"), ct: path.join(dir, "ct-8B") };
}

function benchPreset(preset: string): PresetResult {
  const fam = ensureFamily(preset);
  const inputs = [fam.base, fam.sft, fam.ct].map((d) => path.join(d, "model.safetensors"));
  const scratch = mkdtempSync(path.join(cacheDir, "run-"));
  try {
    const floorArg = (name: string) => ({ inputs, output: path.join(scratch, name) });
    const runs: { seconds: number; rss: number; cpu: number }[][] = WORKLOADS.map(() => []);
    let resident: number | null = null;
    for (let r = 0; r < repeat; r++) {
      WORKLOADS.forEach((w, i) => {
        // Every measurement starts from a warm page cache (the kernel may evict
        // cold pages at any time, e.g. DAMON reclaim): read the inputs, then check.
        spawnSync("cat", inputs, { stdio: ["ignore", "ignore", "inherit"] });
        const frac = residentFraction(inputs);
        if (frac !== null) resident = Math.min(resident ?? 1, frac);
        let m;
        if (!w.request) m = measure("floor", floorArg("floor.bin"));
        else {
          const out = w.writes ? path.join(scratch, `out-${i}-${r}`) : null;
          if (out) mkdirSync(out);
          m = measure("engine", w.request(fam, out));
        }
        runs[i]!.push({ seconds: m.seconds, rss: m.maxRssBytes, cpu: m.cpuSeconds });
        console.error(`[bench ${preset}] round ${r + 1}/${repeat} ${w.name}: ${m.seconds.toFixed(2)} s (CPU ${m.cpuSeconds.toFixed(2)} s), ${gib(m.maxRssBytes)}`);
      });
    }
    const floorRuns = runs[0]!;
    const rows = WORKLOADS.map((w, i) => ({
      w,
      seconds: median(runs[i]!.map((x) => x.seconds)),
      ratio: median(runs[i]!.map((x, r) => x.seconds / floorRuns[r]!.seconds)),
      rss: Math.max(...runs[i]!.map((x) => x.rss)),
      versus: w.versus ? median(runs[i]!.map((x, r) => x.seconds / runs[rowIndex(w.versus!.row)]![r]!.seconds)) : NaN,
      speedup: w.speedup ? median(runs[i]!.map((x, r) => runs[rowIndex(w.speedup!.over)]![r]!.seconds / x.seconds)) : NaN,
      cpu: median(runs[i]!.map((x) => x.cpu)),
    }));
    const shape = BENCH_PRESETS[preset]!;
    return {
      preset,
      params: llamaParameterCount(shape),
      fileBytes: Number(run("stat", ["-c", "%s", inputs[0]!]) ?? 0),
      largest: largestTensor(inputs[0]!),
      rows,
      resident,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const loadBefore = os.loadavg();
const results = presetNames.map(benchPreset);
const loadAfter = os.loadavg();

// ---------------------------------------------------------------- report

const cpus = os.cpus();
const resident = results.map((r) => r.resident).filter((x): x is number => x !== null);
const cache = resident.length
  ? `warm: the inputs are read right before every measurement; at least ${(100 * Math.min(...resident)).toFixed(1)}% of their pages were then in the page cache (fincore)${damon()}`
  : `warm: the inputs are read right before every measurement (residency not checked: no fincore)${damon()}`;
const lines: string[] = [];
lines.push(`### MergeScope bench (${new Date().toISOString().slice(0, 10)})`, "");
lines.push(`- machine: ${cpus[0]?.model.trim() ?? "?"}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, disk ${diskDescription(cacheDir)}; Node ${process.version}, ${os.platform()} ${os.release()}`);
lines.push(`- page cache: ${cache}`);
lines.push(`- load average (1/5/15 min) at start ${loadBefore.map((x) => x.toFixed(2)).join("/")}, at end ${loadAfter.map((x) => x.toFixed(2)).join("/")}; CPU s = median user + system time of the measuring process (Node start-up included)`);
lines.push(`- ${repeat} round(s), workloads interleaved in each round; seconds = median; × floor = median of the per-round ratios; peak RSS = max over rounds (whole process, Node included)`);
lines.push(`- floor = read the 3 input files + write and fsync one file of the same size; merges write and fsync the merged model and hash it (SHA-256)`);
lines.push(`- targets: ties ≤ 2× floor and ≤ 1.3× the same merge with the index tie order, ties_sv ≤ 2.5× floor, sweep ≤ 1.5× one analysis, 2 engine threads ≥ ${THREAD_SCALING_TARGET}× faster than 1 on the thread-scaling rows, peak RSS ≤ ${RSS_TARGET_BYTES / 1e9} GB (${gib(RSS_TARGET_BYTES)})`, "");
for (const r of results) {
  const [lname, lnumel] = r.largest;
  lines.push(`#### ${r.preset}: Llama-shaped bf16, ${(r.params / 1e9).toFixed(2)}B params/model (${(r.fileBytes / 1e9).toFixed(2)} GB/file), 3 models; largest tensor ${lname} (${(lnumel / 1e6).toFixed(1)}M elements, ${gib(lnumel * 4)} as f32)`, "");
  lines.push("| workload | seconds | × floor | target | peak RSS |");
  lines.push("| --- | ---: | ---: | ---: | ---: |");
  for (const row of r.rows) {
    const target =
      row.w.target !== undefined
        ? `≤ ${row.w.target}× ${row.ratio <= row.w.target ? "✓" : "✗"}`
        : "";
    const vs = row.w.versus;
    const versus = vs
      ? `${row.versus.toFixed(2)}× "${vs.row}"${vs.target !== undefined ? ` (≤ ${vs.target}× ${row.versus <= vs.target ? "✓" : "✗"})` : ""}`
      : "";
    const sp = row.w.speedup;
    const speedup = sp
      ? `${row.speedup.toFixed(2)}× faster than "${sp.over}"${sp.target !== undefined ? ` (≥ ${sp.target}× ${row.speedup >= sp.target ? "✓" : "✗"})` : ""}`
      : "";
    const rssOk = row.w.request ? (row.rss <= RSS_TARGET_BYTES ? " ✓" : " ✗") : "";
    lines.push(`| ${row.w.name} | ${row.seconds.toFixed(2)} | ${row.ratio.toFixed(2)} | ${[target, versus, speedup].filter(Boolean).join("; ")} | ${gib(row.rss)}${rssOk} |`);
  }
  lines.push("");
  const scaling = r.rows.filter((row) => row.w.speedup);
  if (scaling.length) {
    lines.push("| thread scaling | 1 thread s | 2 threads s | speed-up 1→2 | target | CPU s 1 → 2 threads |");
    lines.push("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (const row of scaling) {
      const one = r.rows[rowIndex(row.w.speedup!.over)]!;
      const t = row.w.speedup!.target;
      const ok = t === undefined ? "" : `≥ ${t}× ${row.speedup >= t ? "✓" : "✗"}`;
      lines.push(`| ${one.w.name.replace(/, 1 thread$/, "")} | ${one.seconds.toFixed(2)} | ${row.seconds.toFixed(2)} | ${row.speedup.toFixed(2)}× | ${ok} | ${one.cpu.toFixed(2)} → ${row.cpu.toFixed(2)} |`);
    }
    lines.push("");
  }
}
if (results.length > 1) {
  const a = results[0]!;
  const b = results[results.length - 1]!;
  lines.push(`#### Scaling ${a.preset} → ${b.preset}: model ×${(b.params / a.params).toFixed(2)}, largest tensor ×${(b.largest[1] / a.largest[1]).toFixed(2)}`, "");
  lines.push(`| workload | × floor ${a.preset} | × floor ${b.preset} | peak RSS ${a.preset} | peak RSS ${b.preset} | RSS growth | RSS / largest f32 tensor (${a.preset} → ${b.preset}) |`);
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  a.rows.forEach((ra, i) => {
    const rb = b.rows[i]!;
    const per = (r: PresetResult, rss: number) => (rss / (r.largest[1] * 4)).toFixed(1);
    lines.push(`| ${ra.w.name} | ${ra.ratio.toFixed(2)} | ${rb.ratio.toFixed(2)} | ${gib(ra.rss)} | ${gib(rb.rss)} | ×${(rb.rss / ra.rss).toFixed(2)} | ${per(a, ra.rss)} → ${per(b, rb.rss)} |`);
  });
  lines.push("");
}
console.log("\n" + lines.join("\n"));
