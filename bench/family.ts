// The benchmark model families: one Llama-shaped bf16 family (base, SFT, one CT
// checkpoint) per preset, generated once under the cache folder by the streaming
// synthetic generator (chunk by chunk, never a whole model in memory) and reused.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statfsSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { generateModelFamily } from "../server/engine/synthetic/family";
import { llamaParameterCount } from "../server/engine/synthetic/llama";
import { BENCH_PRESETS } from "./presets";

export interface Family {
  base: string;
  sft: string;
  ct: string;
  /** Every CT checkpoint, ascending tokens (ct is the last). */
  cts: string[];
}

/** Headroom left on the disk after the family and one merged output (other users share it). */
const SPARE_BYTES = 2e9;

/** MERGESCOPE_BENCH_CACHE, else bench/.cache of the checkout. */
export const benchCacheDir = (root: string) =>
  process.env.MERGESCOPE_BENCH_CACHE ? path.resolve(process.env.MERGESCOPE_BENCH_CACHE) : path.join(root, "bench", ".cache");

export const familyDir = (cacheDir: string, preset: string, ctCheckpoints = 1) =>
  path.join(cacheDir, `llama-${preset}-bf16${ctCheckpoints > 1 ? `-series${ctCheckpoints}` : ""}`);

/** Bytes of one bf16 model of the preset (tensor data; the header adds a few KB). */
export const modelBytes = (preset: string) => llamaParameterCount(BENCH_PRESETS[preset]!) * 2;

export function freeBytes(dir: string): number {
  mkdirSync(dir, { recursive: true });
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

const gb = (b: number) => `${(b / 1e9).toFixed(1)} GB`;

function duBytes(dir: string): number {
  const out = spawnSync("du", ["-sb", dir], { encoding: "utf8" });
  return out.status === 0 ? Number(out.stdout.split(/\s/)[0]) : 0;
}

/**
 * Refuse to start when the disk cannot hold what the run will write: the family (3 models,
 * unless already generated) plus one merged output, plus SPARE_BYTES. The error says
 * what else lies in the cache folder, since those families can be deleted and regenerated.
 */
export function checkDiskSpace(cacheDir: string, preset: string, free = freeBytes(cacheDir)): void {
  mkdirSync(cacheDir, { recursive: true });
  const generated = existsSync(path.join(familyDir(cacheDir, preset), ".complete"));
  const need = (generated ? 1 : 4) * modelBytes(preset) + SPARE_BYTES;
  if (free >= need) return;
  const others = readdirSync(cacheDir)
    .filter((n) => n.startsWith("llama-") && n !== path.basename(familyDir(cacheDir, preset)))
    .map((n) => `${path.join(cacheDir, n)} (${gb(duBytes(path.join(cacheDir, n)))})`);
  throw new Error(
    `not enough disk space for the ${preset} bench in ${cacheDir}: it needs ${gb(need)} ` +
      `(${generated ? "" : "3 generated models + "}one merged output of ${gb(modelBytes(preset))} + ${gb(SPARE_BYTES)} spare), ` +
      `${gb(free)} is free. Free space on that disk` +
      (others.length ? ` (other cached families, regenerated on their next bench run: ${others.join(", ")})` : "") +
      ` or point MERGESCOPE_BENCH_CACHE at a larger disk.`,
  );
}

/**
 * The preset's family: base, SFT and one CT checkpoint (8B tokens), or, with ctCheckpoints > 1,
 * a CT series (2B, 4B, ... tokens; the series-pass rows) in a folder of its own.
 */
export function ensureFamily(cacheDir: string, preset: string, ctCheckpoints = 1): Family {
  const dir = familyDir(cacheDir, preset, ctCheckpoints);
  const tokensPerCheckpoint = ctCheckpoints > 1 ? 2 : 8;
  if (!existsSync(path.join(dir, ".complete"))) {
    if (ctCheckpoints > 1) {
      const need = (ctCheckpoints + 2) * modelBytes(preset) + SPARE_BYTES;
      if (freeBytes(cacheDir) < need) throw new Error(`not enough disk space for the ${preset} series family in ${cacheDir}: it needs ${gb(need)}; point MERGESCOPE_BENCH_CACHE at a larger disk`);
    } else checkDiskSpace(cacheDir, preset);
    console.error(`generating the ${preset} bf16 family (base, sft, ${ctCheckpoints} CT checkpoint(s), ${gb((ctCheckpoints + 2) * modelBytes(preset))}) in ${dir} ...`);
    const t0 = performance.now();
    let nextReport = 0.1;
    generateModelFamily({
      ...BENCH_PRESETS[preset]!,
      out: dir,
      ctCheckpoints,
      tokensPerCheckpoint,
      dtype: "bf16",
      seed: 7,
      overwrite: true,
      onProgress: (done, total) => {
        if (done / total < nextReport) return;
        console.error(`  ${Math.round((100 * done) / total)}% after ${((performance.now() - t0) / 1000).toFixed(0)} s`);
        nextReport += 0.1;
      },
    });
    writeFileSync(path.join(dir, ".complete"), "");
  }
  const cts = Array.from({ length: ctCheckpoints }, (_, i) => path.join(dir, `ct-${(i + 1) * tokensPerCheckpoint}B`));
  return { base: path.join(dir, "base"), sft: path.join(dir, "sft"), ct: cts[cts.length - 1]!, cts };
}

/** The family's three weight files (each preset writes one safetensors file per model). */
export function familyFiles(f: Family): string[] {
  const files = [f.base, f.sft, f.ct].map((d) => path.join(d, "model.safetensors"));
  for (const file of files) statSync(file); // a clear ENOENT naming the file if the cache was half-deleted
  return files;
}
