// Runs an evaluation command (argv, no shell) in its own process group, streams
// its stdout/stderr line by line to a log callback, and enforces a timeout:
// SIGTERM to the whole group, then SIGKILL after a grace period. Also finds
// the results files lm-eval wrote under the output folder.
import { spawn } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { AppError } from "../../errors";

export interface RunOptions {
  argv: string[];
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  signal?: AbortSignal;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  onLine?: (stream: "stdout" | "stderr", line: string) => void;
  /** Lines kept for the failure message. */
  tailLines?: number;
}

export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  cancelled: boolean;
  /** Set when the program could not be started (e.g. ENOENT: not on PATH). */
  spawnError: (Error & { code?: string }) | null;
  killedWith: "SIGTERM" | "SIGKILL" | null;
  durationMs: number;
  tail: string[];
  lines: number;
}

const MAX_PARTIAL = 64 * 1024;

export function runCommand(opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const tailMax = opts.tailLines ?? 30;
  const tail: string[] = [];
  let lines = 0;
  const emit = (stream: "stdout" | "stderr", raw: string) => {
    // Progress bars redraw with \r: keep the last state of the line.
    const line = raw.slice(raw.lastIndexOf("\r") + 1).trimEnd();
    if (!line) return;
    lines++;
    tail.push(`${stream === "stderr" ? "! " : ""}${line.slice(0, 500)}`);
    if (tail.length > tailMax) tail.shift();
    opts.onLine?.(stream, line);
  };
  return new Promise((resolve) => {
    const [cmd, ...args] = opts.argv;
    if (!cmd) {
      resolve({ exitCode: null, signal: null, timedOut: false, cancelled: false, spawnError: Object.assign(new Error("empty command"), { code: "EINVAL" }), killedWith: null, durationMs: 0, tail, lines });
      return;
    }
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], shell: false, detached: true });
    let timedOut = false;
    let cancelled = false;
    let killedWith: RunResult["killedWith"] = null;
    let spawnError: RunResult["spawnError"] = null;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: "SIGTERM" | "SIGKILL") => {
      if (child.pid === undefined) return;
      killedWith = sig;
      try {
        process.kill(-child.pid, sig); // the whole process group (lm_eval's workers too)
      } catch {
        try {
          child.kill(sig);
        } catch {
          // already gone
        }
      }
    };
    const stop = () => {
      if (killedWith) return;
      killGroup("SIGTERM");
      killTimer = setTimeout(() => killGroup("SIGKILL"), opts.killGraceMs ?? 10_000);
      killTimer.unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.timeoutMs);
    timer.unref();
    const onAbort = () => {
      cancelled = true;
      stop();
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener("abort", onAbort, { once: true });

    for (const [stream, source] of [["stdout", child.stdout], ["stderr", child.stderr]] as const) {
      let partial = "";
      source.setEncoding("utf8");
      source.on("data", (chunk: string) => {
        partial += chunk;
        let nl: number;
        while ((nl = partial.indexOf("\n")) >= 0) {
          emit(stream, partial.slice(0, nl));
          partial = partial.slice(nl + 1);
        }
        if (partial.length > MAX_PARTIAL) partial = partial.slice(partial.lastIndexOf("\r") + 1).slice(-MAX_PARTIAL);
      });
      source.on("end", () => {
        if (partial) emit(stream, partial);
        partial = "";
      });
    }
    child.on("error", (err: Error & { code?: string }) => {
      spawnError = err;
    });
    child.on("close", (code, sig) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener("abort", onAbort);
      // The leader is gone; make sure no member of its group outlives it after a kill.
      if (killedWith && child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // group already empty
        }
      }
      resolve({ exitCode: code, signal: sig, timedOut, cancelled, spawnError, killedWith, durationMs: Date.now() - started, tail, lines });
    });
  });
}

/** Directory entries a search for results files looks at before giving up (a whole disk is not a results folder). */
export const MAX_SEARCHED_ENTRIES = 100_000;

/**
 * results*.json files lm-eval wrote under `dir` (it nests them in a folder named after the
 * model), newest first. Symlinks are not followed (what is found lies physically under
 * `dir`) and only regular files count; asynchronous, and capped at MAX_SEARCHED_ENTRIES.
 */
export async function findResultsFiles(dir: string, maxDepth = 4): Promise<string[]> {
  const found: { p: string; mtime: number }[] = [];
  let seen = 0;
  const walk = async (d: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    seen += entries.length;
    if (seen > MAX_SEARCHED_ENTRIES)
      throw new AppError("BAD_INPUT", `${dir} holds more than ${MAX_SEARCHED_ENTRIES} files and folders; give the folder lm-eval wrote its results to`);
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && depth < maxDepth) await walk(p, depth + 1);
      else if (e.isFile() && /^results.*\.json$/.test(e.name)) found.push({ p, mtime: (await stat(p)).mtimeMs });
    }
  };
  await walk(dir, 0);
  return found.sort((a, b) => b.mtime - a.mtime || a.p.localeCompare(b.p)).map((f) => f.p);
}
