// `npm run bench:generate -- PRESET...`: generate (or check) bench model families without running the bench.
import path from "node:path";
import { benchCacheDir, ensureFamily } from "./family";
import { BENCH_PRESETS } from "./presets";

const root = path.resolve(import.meta.dirname, "..");
const cacheDir = benchCacheDir(root);
const presets = process.argv.slice(2);
if (presets.length === 0) throw new Error(`usage: npm run bench:generate -- PRESET... (one of ${Object.keys(BENCH_PRESETS).join(", ")})`);
for (const p of presets) {
  if (!BENCH_PRESETS[p]) throw new Error(`unknown preset ${p}; one of ${Object.keys(BENCH_PRESETS).join(", ")}`);
  const f = ensureFamily(cacheDir, p);
  console.log(`${p}: ${path.dirname(f.base)}`);
}
