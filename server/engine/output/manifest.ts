// mergescope-manifest.json: size and SHA-256 of every file of an output, the recipe (as
// written) and the engine version, plus one digest over all files (outputSha256) that
// identifies the merged model as a whole: sha256 of the lines "<path> <sha256>\n", sorted by
// path. It holds no absolute path of the machine that merged (outputs are shared publicly).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { Recipe } from "../recipe/types";
import type { StorageDtype } from "../types";
import { EngineError } from "./errors";
import { publicSource } from "./public-paths";
import { MANIFEST_FILE } from "./staging";

export interface ManifestFile {
  /** Relative to the output directory, "/"-separated. */
  path: string;
  bytes: number;
  sha256: string;
}

/**
 * One input of the merge, without any path of the machine that merged: what the recipe wrote
 * (relative paths stay relative, Hugging Face ids stay ids), the cache commit, and a
 * fingerprint of its weight files (names relative to the model folder and sizes).
 */
export interface ManifestInput {
  role: "base" | "model";
  /** As written in the recipe (`model+lora` for adapters); an absolute path is reduced to its folder name. */
  source: string;
  hf: { id: string; revision: string | null; commit: string | null } | null;
  /** sha256 of "<file> <bytes>\n" over the model's .safetensors / .json files, sorted. */
  fingerprint: string;
  lora: { source: string; hf: { id: string; revision: string | null; commit: string | null } | null; fingerprint: string } | null;
}

export interface OutputManifest {
  /** 2: no absolute paths (recipe as written, inputs by source and fingerprint). */
  version: 2;
  createdAt: string;
  engineVersion: string;
  /** The recipe as mergekit YAML with the paths as the recipe wrote them. */
  recipeYaml: string;
  /** sha256 of the resolved recipe (canonical JSON): equal for equal merges on one machine. */
  recipeSha256: string;
  inputs: ManifestInput[];
  /** dtype of the output weights (the dominant one when tensors differ). */
  outDtype: StorageDtype | null;
  /** Every file of the output except this manifest, sorted by path. */
  files: ManifestFile[];
  outputSha256: string;
}

/** Key-sorted JSON (equal values, equal text). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function recipeSha256(recipe: Recipe): string {
  const { notes: _notes, sourceText: _text, ...work } = recipe;
  return createHash("sha256").update(canonical(work)).digest("hex");
}

/** Weight/config files of a model folder (or the single file) as "<name> <bytes>" lines → sha256. */
export async function inputFingerprint(modelPath: string): Promise<string> {
  const hash = createHash("sha256");
  try {
    const st = await stat(modelPath);
    if (st.isFile()) hash.update(`${path.basename(modelPath)} ${st.size}\n`);
    else {
      const names = (await readdir(modelPath)).filter((f) => f.endsWith(".safetensors") || f.endsWith(".json")).sort();
      for (const f of names) hash.update(`${f} ${(await stat(path.join(modelPath, f))).size}\n`);
    }
  } catch {
    hash.update("missing\n");
  }
  return hash.digest("hex");
}

export async function manifestInputs(recipe: Recipe): Promise<ManifestInput[]> {
  const hfOf = (hf: { id: string; revision: string | null; commit: string | null } | null | undefined) =>
    hf ? { id: hf.id, revision: hf.revision, commit: hf.commit } : null;
  const entry = async (
    role: ManifestInput["role"],
    m: { path: string; source: string; hf?: Parameters<typeof hfOf>[0]; lora?: { path: string; source: string; hf: Parameters<typeof hfOf>[0] } | null },
  ): Promise<ManifestInput> => ({
    role,
    source: m.lora ? `${publicSource(m.source)}+${publicSource(m.lora.source)}` : publicSource(m.source),
    hf: hfOf(m.hf),
    fingerprint: await inputFingerprint(m.path),
    lora: m.lora ? { source: publicSource(m.lora.source), hf: hfOf(m.lora.hf), fingerprint: await inputFingerprint(m.lora.path) } : null,
  });
  const out: ManifestInput[] = [];
  if (recipe.basePath !== null) out.push(await entry("base", { path: recipe.basePath, source: recipe.baseSource ?? "", hf: recipe.baseHf, lora: recipe.baseLora }));
  for (const m of recipe.models) out.push(await entry("model", m));
  return out;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  // Streamed in 4 MiB chunks: the event loop keeps running while multi-GB shards are hashed.
  for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

export function outputSha256(files: readonly ManifestFile[]): string {
  const hash = createHash("sha256");
  for (const f of [...files].sort(byPath)) hash.update(`${f.path} ${f.sha256}\n`);
  return hash.digest("hex");
}

/** Regular files below `dir`, relative "/"-separated paths, sorted. Anything else is an error. */
export async function listOutputFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const relPath = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(relPath);
      else if (e.isFile()) out.push(relPath);
      else throw new EngineError("OUT_IO", `${path.join(dir, relPath)} is not a regular file (symlink or special file) in a model output`);
    }
  };
  await walk("");
  return out.sort();
}

export interface VerifyProblem {
  path: string;
  problem: "missing" | "size" | "sha256" | "extra";
  detail: string;
}

export interface VerifyResult {
  ok: boolean;
  outputSha256: string;
  checked: number;
  problems: VerifyProblem[];
}

/** Re-hashes every file of a finished output against its manifest. */
export async function verifyOutput(outDir: string): Promise<VerifyResult> {
  const dir = path.resolve(outDir);
  const manifestPath = path.join(dir, MANIFEST_FILE);
  // Version 1 (older outputs) listed the files and the digest the same way.
  let manifest: Pick<OutputManifest, "files" | "outputSha256"> & { version: number };
  try {
    manifest = JSON.parse(await readFile(manifestPath, "utf8")) as typeof manifest;
  } catch (err) {
    throw new EngineError("MANIFEST_INVALID", `cannot read ${manifestPath}: ${(err as Error).message}; the folder is not a complete MergeScope output`, {
      cause: err,
    });
  }
  if ((manifest?.version !== 1 && manifest?.version !== 2) || !Array.isArray(manifest.files)) {
    throw new EngineError("MANIFEST_INVALID", `${manifestPath} is not a version 1 or 2 MergeScope manifest`);
  }
  const problems: VerifyProblem[] = [];
  for (const f of manifest.files) {
    const p = path.join(dir, ...f.path.split("/"));
    let size: number;
    try {
      size = (await stat(p)).size;
    } catch {
      problems.push({ path: f.path, problem: "missing", detail: "listed in the manifest but not on disk" });
      continue;
    }
    if (size !== f.bytes) {
      problems.push({ path: f.path, problem: "size", detail: `${size} bytes on disk, ${f.bytes} in the manifest` });
      continue;
    }
    const sha = await sha256File(p);
    if (sha !== f.sha256) problems.push({ path: f.path, problem: "sha256", detail: `sha256 ${sha} on disk, ${f.sha256} in the manifest` });
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const rel of await listOutputFiles(dir)) {
    if (rel !== MANIFEST_FILE && !listed.has(rel)) problems.push({ path: rel, problem: "extra", detail: "on disk but not in the manifest" });
  }
  const digest = outputSha256(manifest.files);
  if (digest !== manifest.outputSha256) {
    problems.push({ path: MANIFEST_FILE, problem: "sha256", detail: `outputSha256 is ${manifest.outputSha256} but the listed files give ${digest}` });
  }
  return { ok: problems.length === 0, outputSha256: manifest.outputSha256, checked: manifest.files.length, problems };
}
