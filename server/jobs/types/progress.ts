import type { JobProgress } from "../definition";
import type { NativeProgress } from "../../engine/types";

/** Engine progress → job progress (counts only: throughput and ETA come from the runner's ProgressMeter). */
export function engineProgressToJob(p: NativeProgress): JobProgress {
  const fraction = p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : p.tensorsTotal > 0 ? p.tensorsDone / p.tensorsTotal : 0;
  return {
    phase: p.tensor ? `${p.phase}: ${p.tensor}` : p.phase,
    // 1.0 is reserved for the recorded completion
    progress: Math.min(0.99, fraction),
    tensorsDone: p.tensorsDone,
    tensorsTotal: p.tensorsTotal,
    bytesDone: p.bytesDone,
    bytesTotal: p.bytesTotal,
  };
}
