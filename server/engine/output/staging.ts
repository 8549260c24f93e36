// The output is built in a staging directory next to the destination (same filesystem, so
// the final rename is atomic): `<parent>/.<name>.staging-h<host>-<pid>-<random>`. A crash
// leaves only that hidden folder, which sweepStaleStaging removes once its process is gone.
// The host is part of the name because scale-out workers on several machines share one
// output directory: a pid can only be checked on its own host, so a sweep never touches
// another host's folders. With overwrite, the old output is first renamed to
// `.<name>.replaced-h<host>-<pid>-<random>` and deleted after the new one is in place; a
// crash in between is repaired by the sweep. (Names without `h<host>-`, written before
// hosts were recorded, count as this host's.)
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { EngineError } from "./errors";

export const MANIFEST_FILE = "mergescope-manifest.json";

// groups: 1 output name, 2 host token (absent in old names), 3 pid
const STAGING_NAME = /^\.(.+)\.staging-(?:h([A-Za-z0-9_]+)-)?(\d+)-[0-9a-f]+$/;
const REPLACED_NAME = /^\.(.+)\.replaced-(?:h([A-Za-z0-9_]+)-)?(\d+)-[0-9a-f]+$/;

/** This machine's name as it appears in staging names (letters, digits and `_` only). */
export function hostToken(hostname = os.hostname()): string {
  return hostname.replace(/[^A-Za-z0-9]/g, "_").slice(0, 64) || "_";
}

function siblingName(dest: string, kind: "staging" | "replaced"): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.${kind}-h${hostToken()}-${process.pid}-${randomBytes(4).toString("hex")}`);
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/**
 * Throws OUT_EXISTS unless `dest` is free, or `overwrite` is set and `dest` is something
 * that may be replaced: an empty directory or an earlier MergeScope output (it has a
 * manifest). Never deletes an arbitrary folder, even with overwrite.
 */
export async function assertDestinationFree(dest: string, overwrite: boolean): Promise<void> {
  let info;
  try {
    info = await stat(dest);
  } catch (err) {
    // ENOTDIR: a parent is a file; prepareStaging then reports that it cannot create the parent.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return;
    throw new EngineError("OUT_IO", `cannot check output directory ${dest}: ${(err as Error).message}`, { cause: err });
  }
  if (!overwrite) {
    throw new EngineError("OUT_EXISTS", `output directory ${dest} already exists; choose another one or pass overwrite (--overwrite) to replace it`);
  }
  if (!info.isDirectory()) {
    throw new EngineError("OUT_EXISTS", `output path ${dest} exists and is not a directory; remove it or choose another output directory`);
  }
  const entries = await readdir(dest);
  if (entries.length > 0 && !entries.includes(MANIFEST_FILE)) {
    throw new EngineError(
      "OUT_EXISTS",
      `output directory ${dest} is not empty and is not a MergeScope output (no ${MANIFEST_FILE}); refusing to replace it even with overwrite. Remove it yourself or choose another directory`,
    );
  }
}

/** Creates the staging directory for `outDir` and returns its absolute path. */
export async function prepareStaging(outDir: string, opts: { overwrite?: boolean } = {}): Promise<string> {
  if (typeof outDir !== "string" || outDir === "") throw new TypeError(`expected a directory path for outDir, got ${JSON.stringify(outDir)}`);
  const dest = path.resolve(outDir);
  const parent = path.dirname(dest);
  if (parent === dest) throw new EngineError("OUT_EXISTS", `cannot write a model to the filesystem root ${dest}; give a directory below it`);
  await assertDestinationFree(dest, opts.overwrite ?? false);
  try {
    await mkdir(parent, { recursive: true });
  } catch (err) {
    throw new EngineError("OUT_IO", `cannot create ${parent} (parent of the output directory): ${(err as Error).message}`, { cause: err });
  }
  try {
    await access(parent, constants.W_OK);
  } catch (err) {
    throw new EngineError("OUT_IO", `cannot write to ${parent} (parent of the output directory): permission denied; choose a writable location`, {
      cause: err,
    });
  }
  const staging = siblingName(dest, "staging");
  try {
    await mkdir(staging);
  } catch (err) {
    throw new EngineError("OUT_IO", `cannot create staging directory ${staging}: ${(err as Error).message}`, { cause: err });
  }
  return staging;
}

/** Deletes a staging directory (after a failure or cancellation). Never throws. */
export async function discardStaging(stagingDir: string): Promise<void> {
  await rm(stagingDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
}

/**
 * Moves the finished staging directory to `dest` with one rename. With overwrite, an
 * existing output is moved aside first and restored if the rename fails.
 */
export async function commitStaging(stagingDir: string, dest: string, overwrite: boolean): Promise<void> {
  await assertDestinationFree(dest, overwrite);
  let replaced: string | null = null;
  if (await exists(dest)) {
    replaced = siblingName(dest, "replaced");
    await rename(dest, replaced);
  }
  try {
    await rename(stagingDir, dest);
  } catch (err) {
    if (replaced) await rename(replaced, dest).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST") {
      throw new EngineError("OUT_EXISTS", `output directory ${dest} appeared while the merge was running; nothing was written`, { cause: err });
    }
    throw new EngineError("OUT_IO", `cannot move the merged model into ${dest}: ${(err as Error).message}`, { cause: err });
  }
  if (replaced) await rm(replaced, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
}

export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface SweepResult {
  /** Staging folders of dead processes that were deleted. */
  removed: string[];
  /** Outputs moved aside by an interrupted overwrite and put back (the replacement never landed). */
  restored: string[];
}

/**
 * Cleans up after crashed merges in `dir` (run at server start on the output roots): this
 * host's folders whose process is gone. Other hosts' folders are theirs to sweep.
 */
export async function sweepStaleStaging(dir: string): Promise<SweepResult> {
  const result: SweepResult = { removed: [], restored: [] };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return result;
    throw err;
  }
  for (const name of names) {
    const staging = STAGING_NAME.exec(name);
    const replaced = REPLACED_NAME.exec(name);
    const match = staging ?? replaced;
    if (!match) continue;
    const host = match[2];
    if (host !== undefined && host !== hostToken()) continue;
    if (isProcessAlive(Number(match[3]))) continue;
    const full = path.join(dir, name);
    if (replaced) {
      const dest = path.join(dir, match[1]!);
      if (!(await exists(dest))) {
        await rename(full, dest);
        result.restored.push(dest);
        continue;
      }
    }
    await rm(full, { recursive: true, force: true });
    result.removed.push(full);
  }
  return result;
}
