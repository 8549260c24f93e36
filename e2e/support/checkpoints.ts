// Checkpoints for the models / experiments / builder specs: a tiny synthetic
// family generated inside the e2e server's data directory (its allowed model
// root), with the CT checkpoints in their own folder as a training run leaves
// them, and helpers that register them through the API.
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { APIRequestContext } from "@playwright/test";
import { generateModelFamily } from "../../server/engine/synthetic/family";
import { trpcMutation, trpcQuery } from "./api";

export function e2eDataDir(): string {
  const dir = process.env.E2E_DATA_DIR;
  if (!dir) throw new Error("E2E_DATA_DIR is not set (playwright.config.ts sets it)");
  return dir;
}

export interface CtFamily {
  dir: string;
  base: string;
  sft: string;
  /** The folder holding one subdirectory per CT checkpoint. */
  ctFolder: string;
  cts: string[];
}

/** <data>/models/<name>/{base,sft,ct/ct-2B,ct/ct-4B}, generated once per name. */
export function ctFamily(name: string, ctCheckpoints = 2): CtFamily {
  const dir = path.join(e2eDataDir(), "models", name);
  const ctFolder = path.join(dir, "ct");
  const done = path.join(dir, ".complete");
  if (!existsSync(done)) {
    generateModelFamily({
      out: dir,
      hidden: 64,
      layers: 2,
      intermediate: 128,
      vocab: 256,
      heads: 4,
      kvHeads: 2,
      ctCheckpoints,
      tokensPerCheckpoint: 2,
      dtype: "bf16",
      seed: 5,
      overwrite: true,
    });
    mkdirSync(ctFolder, { recursive: true });
    for (const d of readdirSync(dir)) if (d.startsWith("ct-")) renameSync(path.join(dir, d), path.join(ctFolder, d));
    writeFileSync(done, "");
  }
  const cts = readdirSync(ctFolder)
    .filter((d) => d.startsWith("ct-"))
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    .map((d) => path.join(ctFolder, d));
  return { dir, base: path.join(dir, "base"), sft: path.join(dir, "sft"), ctFolder, cts };
}

export interface RegisteredModel {
  id: string;
  name: string;
  path: string;
  role: string;
  ctTokens: number | null;
}

export interface RegisteredFamily {
  base: RegisteredModel;
  sft: RegisteredModel;
  cts: RegisteredModel[];
}

/**
 * Registers base, SFT and the CT checkpoints with names prefixed by `prefix`;
 * already registered ones (a retried worker re-runs beforeAll) are reused.
 */
export async function registerFamily(request: APIRequestContext, fam: CtFamily, prefix: string, language: string): Promise<RegisteredFamily> {
  const reg = async (p: string, role: string, name: string, lang: string | null) => {
    const found = (await trpcQuery<RegisteredModel[]>(request, "models.list", { search: p })).find((m) => m.path === p);
    if (found) return found;
    return (await trpcMutation<{ model: RegisteredModel }>(request, "models.register", { path: p, role, name, language: lang })).model;
  };
  const base = await reg(fam.base, "BASE", `${prefix}-base`, null);
  const sft = await reg(fam.sft, "SFT", `${prefix}-sft`, "eng");
  const cts: RegisteredModel[] = [];
  for (const ct of fam.cts) cts.push(await reg(ct, "CT", `${prefix}-${path.basename(ct)}`, language));
  return { base, sft, cts };
}

/** The experiment named `name` (created once: merge jobs are idempotent and keep their first experiment). */
export async function ensureExperiment(
  request: APIRequestContext,
  input: { name: string; language: string; baseModelId: string; sftModelId: string; ctModelIds: string[] },
): Promise<string> {
  const existing = (await trpcQuery<{ id: string; name: string }[]>(request, "experiments.list", {})).find((e) => e.name === input.name);
  if (existing) return existing.id;
  return (await trpcMutation<{ id: string }>(request, "experiments.create", input)).id;
}
