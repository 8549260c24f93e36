// Shared setup for the models / experiments / builder tests: a fresh data
// directory and database per test file, with the allowed model root at
// <tmp>/models (so <tmp>/models-evil is a sibling outside it).
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { closeDb } from "../../../server/db/client";
import { resetEnvCache } from "../../../server/env";
import { generateModelFamily } from "../../../server/engine/synthetic/family";

export function freshModelEnv(prefix: string): { dir: string; root: string; cleanup: () => Promise<void> } {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  const root = path.join(dir, "models");
  mkdirSync(root, { recursive: true });
  process.env.MERGESCOPE_DATA_DIR = path.join(dir, "data");
  process.env.MERGESCOPE_MODEL_ROOTS = root;
  resetEnvCache();
  return {
    dir,
    root,
    cleanup: async () => {
      await closeDb();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** base, sft, ct-2B, ct-4B, … (2B tokens apart), Llama-shaped and tiny. */
export function tinyFamily(out: string, ctCheckpoints = 2, seed = 3) {
  return generateModelFamily({
    out,
    hidden: 32,
    layers: 1,
    intermediate: 64,
    vocab: 64,
    heads: 4,
    kvHeads: 2,
    ctCheckpoints,
    tokensPerCheckpoint: 2,
    dtype: "bf16",
    seed,
  });
}
