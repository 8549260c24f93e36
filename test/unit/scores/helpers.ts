// Shared setup for the scores tests: a fresh data directory (and database) per
// test file, set before anything opens the database, and the lm-eval fixtures.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { closeDb, db } from "../../../server/db/client";
import { resetEnvCache } from "../../../server/env";

export const FIXTURES = path.resolve("test/fixtures/lm-eval");
export const FAKE_LM_EVAL = path.join(FIXTURES, "fake-lm-eval.mjs");

export function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), "utf8");
}

export function freshDataDir(prefix: string): { dir: string; cleanup: () => Promise<void> } {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
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

/** Registers a model at a new folder under `root` (Model.path is a realpath). */
export async function registerModel(root: string, name: string, role = "MERGED", language: string | null = null) {
  const p = path.join(root, "models", name);
  mkdirSync(p, { recursive: true });
  const client = await db();
  return client.model.create({ data: { name, path: realpathSync(p), role, language } });
}

/** A results file in lm-eval's 0.4 layout for one model and a few task scores (fractions). */
export function resultsFile(opts: { pretrained: string; scores: Record<string, Record<string, number>>; split?: "dev" | "test"; date?: number }): string {
  const configs: Record<string, unknown> = {};
  const results: Record<string, unknown> = {};
  for (const [task, metrics] of Object.entries(opts.scores)) {
    const entry: Record<string, unknown> = { alias: task };
    for (const [k, v] of Object.entries(metrics)) {
      entry[k] = v;
      const [m, f] = k.split(",");
      entry[`${m}_stderr,${f}`] = "N/A";
    }
    results[task] = entry;
    configs[task] = opts.split === "dev" ? { task, validation_split: "validation" } : { task, test_split: "test" };
  }
  return JSON.stringify(
    { results, configs, "n-shot": Object.fromEntries(Object.keys(opts.scores).map((t) => [t, 0])), config: { model: "hf", model_args: `pretrained=${opts.pretrained},dtype=bfloat16` }, model_name: opts.pretrained, date: opts.date ?? 1717236930 },
    null,
    2,
  );
}
