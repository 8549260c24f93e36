// `npm run bench [-- --preset 0.25b,1.1b] [--repeat N] [--rows della,sce,sweep] [--cache warm|cold|both]`: whole-model merge
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
//
// `--preset 7b` (Llama-2-7B shape, ~54 GB on disk during a run) is on demand only: it defaults
// to the rows floor, ties, ties_sv, analysis only and to `--cache both`: every row is measured
// cold (page cache dropped right before: `sync; echo 3 > /proc/sys/vm/drop_caches` as root,
// else posix_fadvise(DONTNEED) on the inputs through `dd iflag=nocache`) and then warm.
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { inspectModel } from "../server/engine/native-merge";
import { buildMergePlan } from "../server/engine/plan/build";
import { parseRecipeYaml, recipeToNativeRequest } from "../server/engine/recipe";
import { llamaParameterCount } from "../server/engine/synthetic/llama";
import type { NativeMergeRequest, NativeModelInput } from "../server/engine/types";
import { benchCacheDir, checkDiskSpace, ensureFamily, familyFiles, type Family } from "./family";
import { BENCH_PRESETS } from "./presets";

const { values } = parseArgs({
  options: {
    preset: { type: "string", default: "0.25b,1.1b" },
    repeat: { type: "string", default: "3" },
    // comma-separated substrings of row names: run only those rows (plus the floor and compared rows)
    rows: { type: "string" },
    // warm: inputs read right before each measurement; cold: page cache dropped right before; both: each row cold, then warm
    cache: { type: "string" },
  },
});
const presetNames = values.preset!.split(",").map((s) => s.trim()).filter(Boolean);
for (const p of presetNames)
  if (!BENCH_PRESETS[p]) throw new Error(`unknown preset ${p}; one of ${Object.keys(BENCH_PRESETS).join(", ")}`);
const repeat = Math.max(1, Number(values.repeat));
const root = path.resolve(import.meta.dirname, "..");
// MERGESCOPE_BENCH_CACHE: share the generated families (~7.6 GB for 0.25b + 1.1b) between checkouts.
const cacheDir = benchCacheDir(root);

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
  /** A list of requests runs one after another in the measuring process (statistics only). */
  request: ((f: Family, outDir: string | null) => NativeMergeRequest | NativeMergeRequest[]) | null;
  writes: boolean; // the request writes a merged model (outDir set)
  /** Runs on the preset's CT-series family (base, SFT, this many CT checkpoints) instead of the 3-model one. */
  series?: number;
  target?: number; // × floor
  /** Also report the median per-round ratio to another row (by name), with an optional target. */
  versus?: { row: string; target?: number };
  /** Also report the median per-round speed-up over another row (its time / this row's), with an optional floor. */
  speedup?: { over: string; target?: number };
}

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

const SWEEP_GRID = [0.01, 0.2, 0.4, 0.6, 0.8, 1.0];

/** One series pass: models[0] the SFT, models[1..] every CT checkpoint of the family. */
function seriesRequest(f: Family): NativeMergeRequest {
  const one = request(f, null, { densities: SWEEP_GRID });
  return { ...one, series: true, models: [one.models[0]!, ...f.cts.map((ct) => ({ ...one.models[1]!, path: ct }))] };
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
  // The series pass (issue #16): the demo-shaped 6-checkpoint series × the 6×6 grid in one pass
  // (base and SFT read once, each CT once) against 6 separate sweeps (3 models read each), same run.
  {
    name: "series: 6 checkpoints × 6×6 densities, one pass",
    request: (f) => seriesRequest(f),
    writes: false,
    series: 6,
    versus: { row: "series: 6 separate 6×6 sweeps" },
  },
  { name: "series: 6 separate 6×6 sweeps", request: (f) => f.cts.map((ct) => request({ ...f, ct }, null, { densities: SWEEP_GRID })), writes: false, series: 6 },
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

/** Paper scale (issue #17): the 7B preset's default rows, cache states and targets. */
const PAPER_SCALE = {
  preset: "7b",
  rows: ["ties (sft 0.2, ct 1.0)", "ties_sv (slack 0.04)", "analysis only (ties stats)"], // exact names
  cache: "both",
  rssTargetBytes: 4e9,
  /** × the cold floor (read 3 + write 1 with an empty page cache). */
  coldTargets: { "ties (sft 0.2, ct 1.0)": 1.2 } as Record<string, number>,
};
const paperScale = presetNames.includes(PAPER_SCALE.preset);
for (const name of PAPER_SCALE.rows) if (!ALL_WORKLOADS.some((w) => w.name === name)) throw new Error(`7b default row "${name}" is not a bench row`);
const rowFilter = values.rows?.split(",").map((s) => s.trim()).filter(Boolean);
const keep = (w: Workload) =>
  !w.request || (rowFilter ? rowFilter.some((f) => w.name.includes(f)) : !paperScale || PAPER_SCALE.rows.includes(w.name));
const picked = new Set(ALL_WORKLOADS.filter(keep).map((w) => w.name));
// Rows compared with another row bring it along, except in the 7B default set (minutes per row).
if (values.rows !== undefined || !paperScale)
  for (const w of ALL_WORKLOADS) {
    if (picked.has(w.name) && w.versus) picked.add(w.versus.row);
    if (picked.has(w.name) && w.speedup) picked.add(w.speedup.over);
  }
const WORKLOADS = ALL_WORKLOADS.filter((w) => picked.has(w.name));
const rssTargetBytes = (preset: string) => (preset === PAPER_SCALE.preset ? PAPER_SCALE.rssTargetBytes : 2.5e9);
const rowIndex = (name: string) => WORKLOADS.findIndex((w) => w.name === name);

type CacheMode = "cold" | "warm";
const cacheOption = values.cache ?? (paperScale ? PAPER_SCALE.cache : "warm");
if (!["warm", "cold", "both"].includes(cacheOption)) throw new Error(`--cache: expected warm, cold or both, got '${cacheOption}'`);
const MODES: CacheMode[] = cacheOption === "both" ? ["cold", "warm"] : [cacheOption as CacheMode];

// ---------------------------------------------------------------- helpers

function measure(kind: string, arg: unknown): { seconds: number; maxRssBytes: number; cpuSeconds: number; bytesRead?: number } {
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

// ---------------------------------------------------------------- page cache

const coldMethods = new Set<string>();
const warmMethods = new Set<string>();

/** Empty the page cache of the inputs: drop_caches as root, else fadvise(DONTNEED) per file. */
function dropPageCache(inputs: string[]): void {
  spawnSync("sync");
  try {
    writeFileSync("/proc/sys/vm/drop_caches", "3");
    coldMethods.add("`sync; echo 3 > /proc/sys/vm/drop_caches` before each measurement");
    return;
  } catch {
    // not root (or a read-only /proc): evict the input files only
  }
  for (const f of inputs) {
    // GNU dd with iflag=nocache and count=0 calls posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED).
    const r = spawnSync("dd", [`if=${f}`, "iflag=nocache", "count=0", "status=none"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`cannot empty the page cache for ${f}: /proc/sys/vm/drop_caches is not writable and dd iflag=nocache failed (${r.stderr.trim()}); run as root or use --cache warm`);
  }
  coldMethods.add("posix_fadvise(DONTNEED) on the input files (`dd iflag=nocache count=0`) before each measurement; drop_caches was not writable");
}

/**
 * Read the inputs right before the measurement. Inputs larger than the page cache (7B: 40 GB
 * vs 23 GiB of RAM) stay only partly cached: the fincore share in the report says how much.
 */
function warmPageCache(inputs: string[], bytes: number): void {
  spawnSync("cat", inputs, { stdio: ["ignore", "ignore", "inherit"] });
  warmMethods.add(
    bytes > 0.75 * os.totalmem()
      ? `the inputs are read (\`cat\`) right before each measurement, but ${gib(bytes)} of inputs do not fit in ${gib(os.totalmem())} of RAM, so only part of them stays cached`
      : "the inputs are read (`cat`) right before each measurement",
  );
}

// ---------------------------------------------------------------- run

interface Row {
  w: Workload;
  seconds: number;
  ratio: number;
  rss: number;
  versus: number;
  /** Median per-round ratio of bytes read to the versus row's (rows whose measurement reports them). */
  versusBytes: number;
  speedup: number;
  /** Median user + system CPU seconds of the measuring process. */
  cpu: number;
}

interface PresetResult {
  preset: string;
  params: number;
  fileBytes: number;
  largest: [string, number];
  /** One table per cache mode. */
  tables: { mode: CacheMode; rows: Row[]; residentMin: number | null; residentMax: number | null }[];
}

function benchPreset(preset: string): PresetResult {
  const fam = ensureFamily(cacheDir, preset);
  const seriesCts = Math.max(0, ...WORKLOADS.map((w) => w.series ?? 0));
  const seriesFam = seriesCts > 1 ? ensureFamily(cacheDir, preset, seriesCts) : null;
  checkDiskSpace(cacheDir, preset); // one merged output of the model's size besides the family
  const inputs = familyFiles(fam);
  const inputBytes = inputs.reduce((n, f) => n + Number(run("stat", ["-c", "%s", f]) ?? 0), 0);
  const scratch = mkdtempSync(path.join(cacheDir, "run-"));
  try {
    const floorArg = (name: string) => ({ inputs, output: path.join(scratch, name) });
    const runs = MODES.map(() => WORKLOADS.map(() => [] as { seconds: number; rss: number; cpu: number; bytes: number }[]));
    const resident = MODES.map(() => [] as number[]);
    for (let r = 0; r < repeat; r++) {
      WORKLOADS.forEach((w, i) => {
        MODES.forEach((mode, mi) => {
          // The kernel may evict or keep pages at any time (e.g. DAMON reclaim): set the state, then check it.
          if (mode === "cold") dropPageCache(inputs);
          else warmPageCache(inputs, inputBytes);
          const frac = residentFraction(inputs);
          if (frac !== null) resident[mi]!.push(frac);
          let m;
          if (!w.request) m = measure("floor", floorArg("floor.bin"));
          else {
            // measure.ts deletes the merged output when done: only one output is ever on disk.
            const out = w.writes ? path.join(scratch, `out-${i}-${r}`) : null;
            if (out) mkdirSync(out);
            const req = w.request(w.series ? seriesFam! : fam, out);
            m = measure(Array.isArray(req) ? "engines" : "engine", req);
          }
          runs[mi]![i]!.push({ seconds: m.seconds, rss: m.maxRssBytes, cpu: m.cpuSeconds, bytes: m.bytesRead ?? NaN });
          const res = frac === null ? "" : `, ${(100 * frac).toFixed(1)}% resident before`;
          console.error(`[bench ${preset}] round ${r + 1}/${repeat} ${w.name} (${mode}): ${m.seconds.toFixed(2)} s (CPU ${m.cpuSeconds.toFixed(2)} s), ${gib(m.maxRssBytes)}${res}`);
        });
      });
    }
    const tables = MODES.map((mode, mi) => {
      const modeRuns = runs[mi]!;
      const floorRuns = modeRuns[0]!;
      const rows = WORKLOADS.map((w, i) => {
        const vi = w.versus ? rowIndex(w.versus.row) : -1;
        const si = w.speedup ? rowIndex(w.speedup.over) : -1;
        return {
          w,
          seconds: median(modeRuns[i]!.map((x) => x.seconds)),
          ratio: median(modeRuns[i]!.map((x, r) => x.seconds / floorRuns[r]!.seconds)),
          rss: Math.max(...modeRuns[i]!.map((x) => x.rss)),
          versus: vi >= 0 ? median(modeRuns[i]!.map((x, r) => x.seconds / modeRuns[vi]![r]!.seconds)) : NaN,
          versusBytes: vi >= 0 ? median(modeRuns[i]!.map((x, r) => x.bytes / modeRuns[vi]![r]!.bytes)) : NaN,
          speedup: si >= 0 ? median(modeRuns[i]!.map((x, r) => modeRuns[si]![r]!.seconds / x.seconds)) : NaN,
          cpu: median(modeRuns[i]!.map((x) => x.cpu)),
        };
      });
      const fr = resident[mi]!;
      return { mode, rows, residentMin: fr.length ? Math.min(...fr) : null, residentMax: fr.length ? Math.max(...fr) : null };
    });
    const shape = BENCH_PRESETS[preset]!;
    return { preset, params: llamaParameterCount(shape), fileBytes: inputBytes / 3, largest: largestTensor(inputs[0]!), tables };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const loadBefore = os.loadavg();
const results = presetNames.map(benchPreset);
const loadAfter = os.loadavg();

// ---------------------------------------------------------------- report

const cpus = os.cpus();
const pct = (x: number | null) => (x === null ? "?" : `${(100 * x).toFixed(1)}%`);
const lines: string[] = [];
lines.push(`### MergeScope bench (${new Date().toISOString().slice(0, 10)})`, "");
lines.push(`- machine: ${cpus[0]?.model.trim() ?? "?"}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, disk ${diskDescription(cacheDir)}; Node ${process.version}, ${os.platform()} ${os.release()}`);
lines.push(`- load average (1/5/15 min) at start ${loadBefore.map((x) => x.toFixed(2)).join("/")}, at end ${loadAfter.map((x) => x.toFixed(2)).join("/")}; CPU s = median user + system time of the measuring process (Node start-up included)`);
for (const mode of MODES) {
  const methods = [...(mode === "cold" ? coldMethods : warmMethods)].join("; ");
  const res = results
    .map((r) => r.tables.find((t) => t.mode === mode)!)
    .map((t, i) => `${results[i]!.preset} ${pct(t.residentMin)}–${pct(t.residentMax)}`)
    .join(", ");
  lines.push(`- page cache, ${mode}: ${methods}; share of the input pages in the page cache right before each measurement (fincore): ${res}`);
}
if (damon()) lines.push(`- ${damon().replace(/^; note: /, "")}`);
lines.push(`- ${repeat} round(s), workloads interleaved in each round${MODES.length > 1 ? " (each row cold, then warm)" : ""}; seconds = median; × floor = median of the per-round ratios to the floor in the same cache state; peak RSS = max over rounds (whole process, Node included)`);
lines.push(`- floor = read the 3 input files + write and fsync one file of the same size; merges write and fsync the merged model and hash it (SHA-256); each output is deleted right after its measurement`);
lines.push(`- targets: ties ≤ 2× floor and ≤ 1.3× the same merge with the index tie order, ties_sv ≤ 2.5× floor, sweep ≤ 1.5× one analysis, 2 engine threads ≥ ${THREAD_SCALING_TARGET}× faster than 1 on the thread-scaling rows, peak RSS ≤ 2.5 GB; 7B: ties ≤ 1.2× the cold floor, peak RSS ≤ 4 GB`, "");
for (const r of results) {
  const [lname, lnumel] = r.largest;
  for (const t of r.tables) {
    lines.push(`#### ${r.preset} (${t.mode} page cache): Llama-shaped bf16, ${(r.params / 1e9).toFixed(2)}B params/model (${(r.fileBytes / 1e9).toFixed(2)} GB/file), 3 models; largest tensor ${lname} (${(lnumel / 1e6).toFixed(1)}M elements, ${gib(lnumel * 4)} as f32)`, "");
    lines.push("| workload | seconds | × floor | target | peak RSS |");
    lines.push("| --- | ---: | ---: | ---: | ---: |");
    const rssTarget = rssTargetBytes(r.preset);
    for (const row of t.rows) {
      const targetValue = r.preset === PAPER_SCALE.preset ? (t.mode === "cold" ? PAPER_SCALE.coldTargets[row.w.name] : undefined) : row.w.target;
      const target = targetValue !== undefined ? `≤ ${targetValue}× ${row.ratio <= targetValue ? "✓" : "✗"}` : "";
      const vs = row.w.versus;
      const versus =
        vs && !Number.isNaN(row.versus)
          ? `${row.versus.toFixed(2)}× "${vs.row}"${vs.target !== undefined ? ` (≤ ${vs.target}× ${row.versus <= vs.target ? "✓" : "✗"})` : ""}` +
            (row.w.series && !Number.isNaN(row.versusBytes) ? `, bytes read ${row.versusBytes.toFixed(2)}×` : "")
          : "";
      const sp = row.w.speedup;
      const speedup =
        sp && !Number.isNaN(row.speedup)
          ? `${row.speedup.toFixed(2)}× faster than "${sp.over}"${sp.target !== undefined ? ` (≥ ${sp.target}× ${row.speedup >= sp.target ? "✓" : "✗"})` : ""}`
          : "";
      const rssOk = row.w.request ? (row.rss <= rssTarget ? " ✓" : " ✗") : "";
      lines.push(`| ${row.w.name} | ${row.seconds.toFixed(2)} | ${row.ratio.toFixed(2)} | ${[target, versus, speedup].filter(Boolean).join("; ")} | ${gib(row.rss)}${rssOk} |`);
    }
    lines.push("");
    const scaling = t.rows.filter((row) => row.w.speedup && !Number.isNaN(row.speedup));
    if (scaling.length) {
      lines.push("| thread scaling | 1 thread s | 2 threads s | speed-up 1→2 | target | CPU s 1 → 2 threads |");
      lines.push("| --- | ---: | ---: | ---: | ---: | ---: |");
      for (const row of scaling) {
        const one = t.rows[rowIndex(row.w.speedup!.over)]!;
        const target = row.w.speedup!.target;
        const ok = target === undefined ? "" : `≥ ${target}× ${row.speedup >= target ? "✓" : "✗"}`;
        lines.push(`| ${one.w.name.replace(/, 1 thread$/, "")} | ${one.seconds.toFixed(2)} | ${row.seconds.toFixed(2)} | ${row.speedup.toFixed(2)}× | ${ok} | ${one.cpu.toFixed(2)} → ${row.cpu.toFixed(2)} |`);
      }
      lines.push("");
    }
  }
}
if (results.length > 1) {
  const a = results[0]!;
  const b = results[results.length - 1]!;
  const mi = Math.max(0, MODES.indexOf("warm"));
  const [ta, tb] = [a.tables[mi]!, b.tables[mi]!];
  lines.push(`#### Scaling ${a.preset} → ${b.preset} (${ta.mode}): model ×${(b.params / a.params).toFixed(2)}, largest tensor ×${(b.largest[1] / a.largest[1]).toFixed(2)}`, "");
  lines.push(`| workload | × floor ${a.preset} | × floor ${b.preset} | peak RSS ${a.preset} | peak RSS ${b.preset} | RSS growth | RSS / largest f32 tensor (${a.preset} → ${b.preset}) |`);
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  ta.rows.forEach((ra, i) => {
    const rb = tb.rows[i]!;
    const per = (r: PresetResult, rss: number) => (rss / (r.largest[1] * 4)).toFixed(1);
    lines.push(`| ${ra.w.name} | ${ra.ratio.toFixed(2)} | ${rb.ratio.toFixed(2)} | ${gib(ra.rss)} | ${gib(rb.rss)} | ×${(rb.rss / ra.rss).toFixed(2)} | ${per(a, ra.rss)} → ${per(b, rb.rss)} |`);
  });
  lines.push("");
}
console.log("\n" + lines.join("\n"));
