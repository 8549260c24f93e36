import os from "node:os";
import { env } from "../../env";
import type { JobProgress } from "../definition";
import type { NativeProgress } from "../../engine/types";

/** Engine progress → job progress, with throughput and ETA from the elapsed time. */
export function engineProgressToJob(p: NativeProgress, startedAt: number): JobProgress {
  const elapsed = (Date.now() - startedAt) / 1000;
  const fraction = p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : p.tensorsTotal > 0 ? p.tensorsDone / p.tensorsTotal : 0;
  const rate = elapsed > 0 ? p.bytesDone / elapsed : null;
  return {
    phase: p.tensor ? `${p.phase}: ${p.tensor}` : p.phase,
    progress: Math.min(0.99, fraction),
    tensorsDone: p.tensorsDone,
    tensorsTotal: p.tensorsTotal,
    bytesDone: p.bytesDone,
    bytesTotal: p.bytesTotal,
    bytesPerSec: rate,
    etaSeconds: rate && rate > 0 ? (p.bytesTotal - p.bytesDone) / rate : null,
  };
}

/** Cores shared among the worker processes of this machine (N workers × all cores would oversubscribe). */
export function engineThreadsPerWorker(): number {
  return Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, env().workers)));
}
