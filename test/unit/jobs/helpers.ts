// Shared setup for the job tests: a fresh data directory (and database) per
// test file, and a tiny synthetic model family to merge.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { closeDb } from "../../../server/db/client";
import { resetEnvCache } from "../../../server/env";
import { generateModelFamily } from "../../../server/engine/synthetic/family";

export function freshDataDir(prefix: string): { dir: string; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  process.env.MERGESCOPE_DATA_DIR = path.join(dir, "data");
  process.env.MERGESCOPE_MODEL_ROOTS = dir;
  resetEnvCache();
  return {
    dir,
    cleanup: async () => {
      await closeDb();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function tinyFamily(out: string, opts: { ctCheckpoints?: number; hidden?: number; layers?: number; vocab?: number } = {}) {
  return generateModelFamily({
    out,
    hidden: opts.hidden ?? 64,
    layers: opts.layers ?? 2,
    intermediate: (opts.hidden ?? 64) * 2,
    vocab: opts.vocab ?? 256,
    heads: 4,
    kvHeads: 2,
    ctCheckpoints: opts.ctCheckpoints ?? 2,
    tokensPerCheckpoint: 2,
    dtype: "bf16",
    seed: 3,
  });
}

export function tiesRecipe(familyDir: string, ct: string, method = "ties", sftDensity = 0.2): string {
  return [
    `merge_method: ${method}`,
    "base_model: ./base",
    "models:",
    "  - model: ./sft",
    "    parameters:",
    "      weight: 1.0",
    `      density: ${sftDensity}`,
    ...(method === "ties_sv" ? ["      favored: true"] : []),
    `  - model: ./${ct}`,
    "    parameters:",
    "      weight: 1.0",
    "      density: 1.0",
    "parameters:",
    "  normalize: true",
    ...(method === "ties_sv" ? ["  slack: 0.04"] : []),
    "",
  ].join("\n");
}
