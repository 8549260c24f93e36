// What a checkpoint directory is: architecture (config.json), parameter count,
// dtype, shards and size (the native engine reads the safetensors headers),
// the synthetic-family marker and the continual-training tokens it has seen.
// Every file is opened through server/paths (regular files only, size-capped,
// containment checked on the descriptor); the engine checks its own files the
// same way. Runs on an offload thread (server/offload): a checkpoint's headers
// can be tens of MB of JSON.
import { lstatSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { AppError } from "../../errors";
import { inspectModel } from "../../engine/native-merge";
import { MANIFEST_FILE } from "../../engine/output";
import { formatLanguageCode, mostFrequentFloresCode } from "../languages/codes";
import { PathError, readRegularFileText } from "../../paths";
import { tokensFromDirName, tokensFromTrainerState } from "./tokens";
import type { MergeLineage } from "./schemas";

export const SYNTHETIC_MARKER = "mergescope-synthetic.json";

export interface DetectedModel {
  architecture: string | null;
  parameterCount: number;
  /** The tensors' storage dtype (BF16, F16, F32), or e.g. "mixed (BF16, F32)". */
  dtype: string | null;
  shardCount: number;
  sizeBytes: number;
  synthetic: boolean;
  /** Role written in the synthetic marker (base, sft, ct), if any. */
  syntheticRole: string | null;
  /** The folder holds a MergeScope merge output (mergescope-manifest.json): its role is MERGED, whatever its name says. */
  mergeOutput: boolean;
  /** The manifest's digests of a merge output (null otherwise): identify it wherever it is copied. */
  mergeIdentity: { outputSha256: string; recipeSha256: string | null; lineage: MergeLineage } | null;
  /** Tokens seen by continual training and where the number came from, when found. */
  tokens: { value: number; source: string } | null;
  /** config.json vocab_size, else the rows of the input embedding (null: neither found). */
  vocabSize: number | null;
  /** The most frequent FLORES-style code (xka_Geor) in trainer_state.json, else config.json: the language registration proposes. */
  language: { code: string; script: string | null; source: string } | null;
  warnings: string[];
}

const MAX_SIDE_FILE_BYTES = { config: 4 << 20, marker: 64 << 10, trainerState: 64 << 20, manifest: 16 << 20 } as const;

/**
 * A JSON side file, or undefined when it is absent or not valid JSON (the model still
 * registers). A FIFO, a device, a link out of the roots or an oversized file is refused
 * with its path: those are never read.
 */
function present(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

async function readJson(file: string, maxBytes: number, roots: readonly string[] | null): Promise<unknown> {
  if (!present(file)) return undefined;
  let text: string;
  try {
    text = (await readRegularFileText(file, { roots, maxBytes, what: "model file", rootsLabel: "allowed model roots" })).text;
  } catch (err) {
    if (err instanceof PathError && err.rule === "PATH_NOT_FOUND") return undefined; // a dangling link
    throw err;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function asRecord(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** The language a side file names most often (dataset names, args, log keys like eval_xka_Geor_loss), with where it was found. */
function detectedLanguage(doc: unknown, file: string): DetectedModel["language"] {
  const hit = doc === undefined || doc === null ? null : mostFrequentFloresCode(doc);
  if (!hit) return null;
  const others = hit.codes > 1 ? `; ${hit.codes - 1} other code${hit.codes > 2 ? "s" : ""} less often` : "";
  return { code: hit.code, script: hit.script, source: `${file} (${formatLanguageCode(hit)} ${hit.count}×${others})` };
}

/** True when a directory holds safetensors weights (single file, index or shards). */
export function holdsWeights(dir: string): boolean {
  try {
    return readdirSync(dir).some((f) => f.endsWith(".safetensors") || f === "model.safetensors.index.json");
  } catch {
    return false;
  }
}

function engineError(modelPath: string, err: unknown): AppError {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === "NATIVE_ADDON_MISSING") return new AppError("UNAVAILABLE", message, { cause: err });
  return new AppError("ENGINE", `cannot read the checkpoint at ${modelPath}: ${message}`, {
    engineCode: typeof code === "string" ? code : "ENGINE_ERROR",
    cause: err,
  });
}

export interface DetectOptions {
  tokensPerStep?: number | null;
  /** Folders every file read must lie in (the engine's files and the side files); null = any. */
  allowedRoots?: readonly string[] | null;
}

/** Detects everything about the model at `realPath` (already resolved and allowed). */
export async function detectModel(realPath: string, opts: DetectOptions = {}): Promise<DetectedModel> {
  const roots = opts.allowedRoots ?? null;
  let info;
  try {
    info = inspectModel(realPath, { allowedRoots: roots });
  } catch (err) {
    if ((err as { code?: unknown }).code === "PATH_NOT_ALLOWED")
      throw new PathError("PATH_NOT_ALLOWED", realPath, err instanceof Error ? err.message : String(err), { cause: err });
    throw engineError(realPath, err);
  }
  const isDir = statSync(realPath).isDirectory();
  const dir = isDir ? realPath : path.dirname(realPath);
  const warnings: string[] = [];

  const config = isDir ? asRecord(await readJson(path.join(dir, "config.json"), MAX_SIDE_FILE_BYTES.config, roots)) : null;
  if (isDir && !config) warnings.push("no readable config.json: architecture unknown");
  const archs = config?.architectures;
  const architecture =
    Array.isArray(archs) && typeof archs[0] === "string"
      ? archs[0]
      : typeof config?.model_type === "string"
        ? config.model_type
        : null;

  const dtypeCounts = new Map<string, number>();
  for (const t of info.tensors) dtypeCounts.set(t.dtype, (dtypeCounts.get(t.dtype) ?? 0) + 1);
  const dtypes = [...dtypeCounts.keys()].sort();
  const dtype = dtypes.length === 0 ? null : dtypes.length === 1 ? dtypes[0]! : `mixed (${dtypes.join(", ")})`;

  let sizeBytes = 0;
  for (const shard of info.shards) {
    try {
      sizeBytes += statSync(shard).size;
    } catch {
      // the engine just read it; a concurrent delete only makes the size approximate
    }
  }

  const marker = isDir ? asRecord(await readJson(path.join(dir, SYNTHETIC_MARKER), MAX_SIDE_FILE_BYTES.marker, roots)) : null;
  const synthetic = marker?.synthetic === true;
  const syntheticRole = synthetic && typeof marker?.role === "string" ? marker.role : null;
  const manifest = isDir && present(path.join(dir, MANIFEST_FILE)) ? asRecord(await readJson(path.join(dir, MANIFEST_FILE), MAX_SIDE_FILE_BYTES.manifest, roots)) : null;
  const mergeOutput = manifest !== null && typeof manifest.outputSha256 === "string";
  const sha = (v: unknown) => (typeof v === "string" && /^[0-9a-f]{64}$/.test(v) ? v : null);
  const mergeIdentity = mergeOutput && sha(manifest.outputSha256) ? { outputSha256: sha(manifest.outputSha256)!, recipeSha256: sha(manifest.recipeSha256), lineage: manifestLineage(manifest) } : null;

  let tokens: DetectedModel["tokens"] = null;
  let language: DetectedModel["language"] = null;
  const statePath = path.join(dir, "trainer_state.json");
  if (isDir && present(statePath)) {
    const state = await readJson(statePath, MAX_SIDE_FILE_BYTES.trainerState, roots);
    language = detectedLanguage(state, "trainer_state.json");
    const fromState = tokensFromTrainerState(state, opts.tokensPerStep);
    if (fromState) tokens = { value: fromState.tokens, source: `trainer_state.json (${fromState.how})` };
    else warnings.push("trainer_state.json has no num_input_tokens_seen; give tokens per step to derive tokens from global_step");
  }
  if (!tokens && synthetic && typeof marker?.tokensB === "number" && marker.tokensB > 0) {
    tokens = { value: Math.round(marker.tokensB * 1e9), source: SYNTHETIC_MARKER };
  }
  if (!tokens) {
    const fromName = tokensFromDirName(path.basename(realPath));
    if (fromName !== null) tokens = { value: fromName, source: `directory name '${path.basename(realPath)}'` };
  }

  language ??= detectedLanguage(config, "config.json");

  const cfgVocab = config?.vocab_size ?? asRecord(config?.text_config)?.vocab_size;
  const embed = info.tensors.find((t) => /(embed_tokens|wte|word_embeddings|tok_embeddings|embed_in)\.weight$/.test(t.name) && t.shape.length === 2);
  const vocabSize = Number.isSafeInteger(cfgVocab) && (cfgVocab as number) > 0 ? (cfgVocab as number) : (embed?.shape[0] ?? null);

  return {
    vocabSize,
    language,
    architecture,
    parameterCount: info.parameterCount,
    dtype,
    shardCount: info.shards.length,
    sizeBytes,
    synthetic,
    syntheticRole,
    mergeOutput,
    mergeIdentity,
    tokens,
    warnings,
  };
}

const MAX_LINEAGE_INPUTS = 64;
const MAX_LINEAGE_TEXT = 64 << 10;

/** Method, inputs and recipe of a merge output's manifest (written by us, still read defensively). */
function manifestLineage(manifest: Record<string, unknown>): MergeLineage {
  const recipeYaml = typeof manifest.recipeYaml === "string" ? manifest.recipeYaml.slice(0, MAX_LINEAGE_TEXT) : "";
  const method = /^merge_method:\s*["']?([A-Za-z0-9_]+)/m.exec(recipeYaml)?.[1] ?? null;
  const inputs = (Array.isArray(manifest.inputs) ? manifest.inputs : []).slice(0, MAX_LINEAGE_INPUTS).flatMap((raw) => {
    const i = asRecord(raw);
    if (!i || (i.role !== "base" && i.role !== "model") || typeof i.source !== "string") return [];
    return [{ role: i.role as "base" | "model", source: i.source.slice(0, 500) }];
  });
  return { method, inputs, recipeYaml, engineVersion: typeof manifest.engineVersion === "string" ? manifest.engineVersion.slice(0, 100) : null };
}
