// Merge progress on stderr. On a terminal: one line redrawn in place (at most 10 times a
// second). Otherwise (CI logs, pipes, job logs): a plain line when the phase changes and
// then every few seconds, so logs stay short but show the merge is alive.
import type { NativeProgress } from "../engine/types";

export interface ProgressOutput {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressReporter {
  update(p: NativeProgress): void;
  /** Clears the bar (TTY) so the next output starts on a clean line. */
  done(): void;
}

const PHASE_LABEL: Record<NativeProgress["phase"], string> = {
  plan: "planning",
  slack: "ranking lost elections",
  merge: "merging",
  analyze: "analyzing",
};

export function formatBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/**
 * Fraction done in [0, 1]: by bytes when the engine counts them, else by tensors (a phase
 * may report bytesTotal without advancing bytesDone; the bar must still move).
 */
export function progressFraction(p: NativeProgress): number {
  const byBytes = p.bytesTotal > 0 && p.bytesDone > 0;
  const f = byBytes ? p.bytesDone / p.bytesTotal : p.tensorsTotal > 0 ? p.tensorsDone / p.tensorsTotal : 0;
  return Math.min(1, Math.max(0, f));
}

export function progressLine(p: NativeProgress, width = 24): string {
  const f = progressFraction(p);
  const filled = Math.round(f * width);
  const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
  const bytes = p.bytesTotal > 0 && p.bytesDone > 0 ? `  ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}` : "";
  return `${bar} ${(f * 100).toFixed(0).padStart(3)}%  ${PHASE_LABEL[p.phase]} ${p.tensorsDone}/${p.tensorsTotal} tensors${bytes}`;
}

export function createProgressReporter(
  out: ProgressOutput,
  opts: { now?: () => number; tickMs?: number; plainEveryMs?: number } = {},
): ProgressReporter {
  const now = opts.now ?? Date.now;
  const tty = out.isTTY === true;
  const minGap = tty ? (opts.tickMs ?? 100) : (opts.plainEveryMs ?? 5000);
  let last = -Infinity;
  let lastPhase: string | null = null;
  let drawn = false;
  return {
    update(p) {
      const t = now();
      const phaseChanged = p.phase !== lastPhase;
      if (!phaseChanged && t - last < minGap) return;
      last = t;
      lastPhase = p.phase;
      if (tty) {
        let line = progressLine(p);
        const room = (out.columns ?? 100) - line.length - 3;
        if (room > 10 && p.tensor) line += `  ${p.tensor.length > room ? `…${p.tensor.slice(-(room - 1))}` : p.tensor}`;
        out.write(`\r\x1b[2K${line}`);
        drawn = true;
      } else {
        out.write(`${progressLine(p)}\n`);
      }
    },
    done() {
      if (tty && drawn) out.write("\r\x1b[2K");
      drawn = false;
    },
  };
}
