// Turns a staging directory holding the engine's shards into a complete Hugging Face model
// directory at `outDir`: side files, model card, manifest, fsync, then one atomic rename.
// On any failure or cancellation the staging directory is deleted and `outDir` is untouched.
import { stat } from "node:fs/promises";
import path from "node:path";
import { recipeToYaml } from "../recipe/to-yaml";
import { torchDtypeName, type Recipe } from "../recipe/types";
import { writeTokenizerFiles } from "../tokenizer/write";
import { paddedVocabSize, type OutputVocab } from "../tokenizer/vocab";
import { buildStatsReport, type StatsReport } from "../stats/report";
import type { NativeMergeResult, StorageDtype } from "../types";
import { fsyncPath, writeFileDurable } from "./durable";
import { EngineError, throwIfCancelled } from "./errors";
import { copyModelSideFiles } from "./hf-files";
import { listOutputFiles, manifestInputs, outputSha256, recipeSha256, sha256File, type ManifestFile, type OutputManifest } from "./manifest";
import { buildModelCard } from "./model-card";
import { publicPathRewriter } from "./public-paths";
import { commitStaging, discardStaging, MANIFEST_FILE } from "./staging";

export interface FinalizeOutputOptions {
  stagingDir: string;
  outDir: string;
  /** Where config.json and the tokenizer come from (the base model; the first model for linear). */
  baseModelPath: string | null;
  /** Folders config/tokenizer files may be copied from (null = any; see AnalyzeOptions.allowedRoots). */
  allowedRoots?: readonly string[] | null;
  recipe: Recipe;
  result: NativeMergeResult;
  /** The request's outDtype; null = whatever the engine wrote (read from the result). */
  outDtype: StorageDtype | null;
  /** Slices: the output's layer count for config.json `num_hidden_layers` (null = the base's). */
  numHiddenLayers?: number | null;
  /** Defaults to buildStatsReport(recipe, result). */
  stats?: StatsReport;
  engineVersion?: string;
  overwrite?: boolean;
  signal?: AbortSignal;
  /** Re-hash the shards instead of trusting the SHA-256 the engine computed while writing them. */
  rehashShards?: boolean;
  /** A tokenizer merge: its output vocabulary (tokenizer files and config vocab_size come from it). */
  tokenizer?: OutputVocab | null;
}

/** mergekit writes the recipe it ran next to the model. */
export const MERGEKIT_CONFIG_FILE = "mergekit_config.yml";

export interface FinalizeOutputResult {
  outDir: string;
  manifest: OutputManifest;
  outputSha256: string;
}

/** The dtype holding most elements of the result (what config.json should announce). */
export function dominantDtype(result: NativeMergeResult): StorageDtype | null {
  const numel = new Map<StorageDtype, number>();
  for (const t of result.tensors) numel.set(t.dtype, (numel.get(t.dtype) ?? 0) + t.numel);
  let best: StorageDtype | null = null;
  for (const [dtype, n] of numel) if (best === null || n > numel.get(best)!) best = dtype;
  return best;
}

export async function finalizeOutput(opts: FinalizeOutputOptions): Promise<FinalizeOutputResult> {
  const dest = path.resolve(opts.outDir);
  const staging = path.resolve(opts.stagingDir);
  let manifest: OutputManifest;
  try {
    throwIfCancelled(opts.signal, dest);
    const shardHashes = await checkShards(staging, opts.result);
    const outDtype = opts.outDtype ?? dominantDtype(opts.result);
    const engineVersion = opts.engineVersion ?? "unknown";

    // mergekit: config dtype = out_dtype, else dtype, else the base's (a compute-dtype override pins outDtype).
    const configDtype = opts.recipe.outDtype ?? opts.recipe.dtype ?? (opts.outDtype !== null ? torchDtypeName(opts.outDtype) : null);
    await copyModelSideFiles(
      opts.baseModelPath,
      staging,
      {
        dtype: configDtype,
        vocabSize: opts.tokenizer ? paddedVocabSize(opts.tokenizer.tokens.length, opts.recipe.tokenizer?.padToMultipleOf) : null,
        numHiddenLayers: opts.numHiddenLayers ?? null,
      },
      { copyTokenizer: !opts.tokenizer, allowedRoots: opts.allowedRoots ?? null },
    );
    if (opts.tokenizer) await writeTokenizerFiles(opts.tokenizer, staging);
    throwIfCancelled(opts.signal, dest);
    const stats = opts.stats ?? buildStatsReport(opts.recipe, opts.result);
    const card = buildModelCard({ title: path.basename(dest), recipe: opts.recipe, stats, engineVersion });
    await writeFileDurable(path.join(staging, "README.md"), card);
    // As mergekit: the recipe text it was given (or, for a recipe built in code, its YAML as written).
    // Absolute input folders (a recipe built in the dashboard) are reduced to their names (public-paths.ts).
    const local = publicPathRewriter(opts.recipe);
    await writeFileDurable(path.join(staging, MERGEKIT_CONFIG_FILE), local(opts.recipe.sourceText ?? recipeToYaml(opts.recipe, { paths: "as-written" })));

    const files: ManifestFile[] = [];
    for (const rel of await listOutputFiles(staging)) {
      if (rel === MANIFEST_FILE) throw new EngineError("OUT_IO", `${staging} already holds a ${MANIFEST_FILE}; the staging directory was reused`);
      throwIfCancelled(opts.signal, dest);
      const abs = path.join(staging, ...rel.split("/"));
      const bytes = (await stat(abs)).size;
      const known = opts.rehashShards ? undefined : shardHashes.get(rel);
      files.push({ path: rel, bytes, sha256: known ?? (await sha256File(abs)) });
      // Cheap for the shards (the engine fsynced them); required for everything else.
      await fsyncPath(abs);
    }
    manifest = {
      version: 2,
      createdAt: new Date().toISOString(),
      engineVersion,
      recipeYaml: local(recipeToYaml(opts.recipe, { paths: "as-written" })),
      recipeSha256: recipeSha256(opts.recipe),
      inputs: await manifestInputs(opts.recipe),
      outDtype,
      files,
      outputSha256: outputSha256(files),
    };
    await writeFileDurable(path.join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await fsyncPath(staging);

    throwIfCancelled(opts.signal, dest);
    await commitStaging(staging, dest, opts.overwrite ?? false);
  } catch (err) {
    await discardStaging(staging);
    throw err;
  }
  // After the rename the output is complete and in place; failing now would break the
  // "error => nothing at outDir" rule, so a failed parent fsync (which only weakens
  // durability across a power cut) is not reported as a merge failure.
  await fsyncPath(path.dirname(dest)).catch(() => undefined);
  return { outDir: dest, manifest, outputSha256: manifest.outputSha256 };
}

/** Every shard the engine reported is in staging with its size; returns the engine's hashes by file. */
async function checkShards(staging: string, result: NativeMergeResult): Promise<Map<string, string>> {
  if (result.shards.length === 0) {
    throw new EngineError("OUT_IO", "the engine result lists no shards (it ran in statistics-only mode); there is no model to finalize");
  }
  const hashes = new Map<string, string>();
  for (const shard of [...result.shards, ...(result.indexFile ? [{ filename: result.indexFile, bytes: -1, sha256: "" }] : [])]) {
    const p = path.join(staging, shard.filename);
    let size: number;
    try {
      size = (await stat(p)).size;
    } catch {
      throw new EngineError("OUT_IO", `the engine reported ${shard.filename} but ${p} does not exist; the output is incomplete`);
    }
    if (shard.bytes >= 0 && size !== shard.bytes) {
      throw new EngineError("OUT_IO", `${p} has ${size} bytes but the engine wrote ${shard.bytes}; the output is incomplete`);
    }
    if (shard.sha256) hashes.set(shard.filename, shard.sha256.toLowerCase());
  }
  return hashes;
}
