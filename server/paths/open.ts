// Opening a file a user named, the only way MergeScope's TypeScript reads
// one: O_NONBLOCK so a FIFO cannot block open(), fstat on the descriptor so
// only regular files are read (no FIFO, device or socket), the size limit
// checked before reading, and containment checked on what was actually
// opened — the descriptor's own path (/proc/self/fd) — so a folder swapped
// for a symlink after an earlier check is still refused.
import { closeSync, constants, createWriteStream, fstatSync, openSync, readlinkSync, readSync, realpathSync, statSync, type Stats } from "node:fs";
import { open, readlink, realpath, stat, type FileHandle } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { isInside, outsideError, realRoots, resolveInside } from "./contain";
import { PathError, showPath } from "./errors";
import { formatBytes } from "./format";
import { normalizePath } from "./normalize";

export interface OpenedFile {
  handle: FileHandle;
  /** Where the descriptor points (symlinks resolved). */
  realPath: string;
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
}

export interface OpenOptions {
  /** Allowed folders; null = no containment (the local CLI reads what its user names). */
  roots: readonly string[] | null;
  /** Refuse larger files (FILE_TOO_LARGE) before reading a byte. */
  maxBytes?: number;
  what?: string;
  hint?: string;
  rootsLabel?: string;
}

/** The path of an open descriptor: /proc/self/fd on Linux, else realpath checked against the descriptor's identity. */
async function descriptorPath(fd: number, p: string, st: { dev: number; ino: number }): Promise<string | null> {
  try {
    const viaProc = await readlink(`/proc/self/fd/${fd}`);
    if (viaProc.startsWith("/")) return viaProc;
  } catch {
    // no /proc (macOS): fall through
  }
  try {
    const real = await realpath(p);
    const again = await stat(real);
    return again.dev === st.dev && again.ino === st.ino ? real : null;
  } catch {
    return null;
  }
}

export async function openRegularFile(input: string, opts: OpenOptions): Promise<OpenedFile> {
  const what = opts.what ?? "file";
  const p = normalizePath(input, what);
  let handle: FileHandle;
  try {
    handle = await open(p, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Say nothing about files outside the roots, even whether they exist.
    if (opts.roots) await assertParentInside(input, p, opts);
    if (code === "ENOENT" || code === "ENOTDIR") throw new PathError("PATH_NOT_FOUND", input, `${what} ${showPath(input)} does not exist`);
    throw new PathError("PATH_INVALID", input, `${what} ${showPath(input)} cannot be opened: ${code ?? (err as Error).message}`);
  }
  try {
    const st = await handle.stat();
    const real = await descriptorPath(handle.fd, p, st);
    checkOpened(input, st, real, opts.roots ? await realRoots(opts.roots) : null, opts);
    return { handle, realPath: real ?? p, size: st.size, mtimeMs: st.mtimeMs, dev: st.dev, ino: st.ino };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** What was opened must lie inside the (resolved) roots, be a regular file, and fit the size limit. */
function checkOpened(input: string, st: Stats, real: string | null, roots: string[] | null, opts: OpenOptions): void {
  const what = opts.what ?? "file";
  if (roots && opts.roots) {
    if (real === null) throw new PathError("PATH_NOT_ALLOWED", input, `${what} ${showPath(input)} changed while it was being opened; try again`);
    if (!roots.some((r) => isInside(r, real))) throw outsideError(input, real, { roots: opts.roots, hint: opts.hint, rootsLabel: opts.rootsLabel, what });
  }
  if (!st.isFile()) {
    const kind = st.isDirectory() ? "a directory" : st.isFIFO() ? "a FIFO (named pipe)" : st.isSocket() ? "a socket" : "a device";
    throw new PathError("PATH_NOT_REGULAR", input, `${what} ${showPath(input)} is ${kind}, not a regular file: only regular files are read`);
  }
  if (opts.maxBytes !== undefined && st.size > opts.maxBytes) {
    throw new PathError(
      "FILE_TOO_LARGE",
      input,
      `${what} ${showPath(input)} is ${formatBytes(st.size)}, above the ${formatBytes(opts.maxBytes)} limit for ${what}s; it is not read`,
    );
  }
}

/**
 * readRegularFileText for synchronous callers (the engine's request preparation reads
 * small side files — tokenizer.json, adapter_config.json — on the worker): the same
 * checks on the opened descriptor. A missing file is PATH_NOT_FOUND.
 */
export function readRegularFileTextSync(input: string, opts: OpenOptions & { maxBytes: number }): string {
  const what = opts.what ?? "file";
  const p = normalizePath(input, what);
  let fd: number;
  try {
    fd = openSync(p, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new PathError("PATH_NOT_FOUND", input, `${what} ${showPath(input)} does not exist`);
    throw new PathError("PATH_INVALID", input, `${what} ${showPath(input)} cannot be opened: ${code ?? (err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    let real: string | null = null;
    try {
      real = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // no /proc (macOS): realpath, checked against the descriptor's identity
      try {
        const r = realpathSync(p);
        const again = statSync(r);
        real = again.dev === st.dev && again.ino === st.ino ? r : null;
      } catch {
        real = null;
      }
    }
    const roots = opts.roots
      ? [...new Set(opts.roots.map((r) => { try { return realpathSync(r); } catch { return null; } }).filter((r): r is string => r !== null))]
      : null;
    checkOpened(input, st, real, roots, opts);
    const buf = Buffer.alloc(Math.min(st.size, opts.maxBytes) + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
      if (n === buf.length) break;
    }
    if (n > opts.maxBytes) throw new PathError("FILE_TOO_LARGE", input, `${what} ${showPath(input)} grew above the ${formatBytes(opts.maxBytes)} limit while it was read`);
    return buf.subarray(0, n).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

async function assertParentInside(input: string, p: string, opts: OpenOptions): Promise<void> {
  const parent = p.slice(0, p.lastIndexOf("/")) || "/";
  try {
    await resolveInside(parent, { roots: opts.roots!, what: opts.what, hint: opts.hint, rootsLabel: opts.rootsLabel });
  } catch (err) {
    if (err instanceof PathError && err.rule === "PATH_NOT_ALLOWED") throw outsideError(input, p, { roots: opts.roots!, what: opts.what, hint: opts.hint, rootsLabel: opts.rootsLabel });
  }
}

/** Reads a whole regular file as UTF-8 (size-capped, containment-checked). */
export async function readRegularFileText(input: string, opts: OpenOptions & { maxBytes: number }): Promise<{ text: string; file: Omit<OpenedFile, "handle"> }> {
  const f = await openRegularFile(input, opts);
  try {
    // Read at most maxBytes + 1: a file that grew after fstat is still capped.
    const buf = Buffer.alloc(Math.min(f.size, opts.maxBytes) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await f.handle.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) break;
    }
    if (n > opts.maxBytes) throw new PathError("FILE_TOO_LARGE", input, `${opts.what ?? "file"} ${showPath(input)} grew above the ${formatBytes(opts.maxBytes)} limit while it was read`);
    const { handle: _h, ...file } = f;
    return { text: buf.subarray(0, n).toString("utf8"), file };
  } finally {
    await f.handle.close();
  }
}

/** Copies a regular file (checked like openRegularFile) to `dest`, which is created (not followed if it exists). */
export async function copyRegularFile(input: string, dest: string, opts: OpenOptions): Promise<void> {
  const f = await openRegularFile(input, opts);
  try {
    await pipeline(f.handle.createReadStream({ start: 0, autoClose: false }), createWriteStream(dest, { flags: "wx" }));
  } finally {
    await f.handle.close();
  }
}
