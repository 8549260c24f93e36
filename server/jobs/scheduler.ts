// Decides, inside one worker process, which claimed jobs may start and with how
// many engine threads. Two resources are shared: cores (engine jobs split them:
// a lone merge gets every core, a deep queue runs several jobs side by side with
// fewer threads each, never more threads than cores) and memory (jobs run
// concurrently only while their estimated working sets fit the budget; a job
// larger than the whole budget still runs, alone, so nothing waits forever).
import os from "node:os";
import { env } from "../env";
import type { JobResources } from "./definition";

export interface SchedulerLimits {
  /** Cores this worker may use (its share of the machine). */
  cores: number;
  /** Bytes the running jobs' working sets may add up to. */
  memoryBudgetBytes: number;
  /** Jobs in flight at most (native calls each hold a libuv pool thread). */
  maxConcurrent: number;
}

export interface Placement {
  threads: number;
  workingSetBytes: number;
}

export type PlacementDecision = { start: true; placement: Placement } | { start: false; reason: string };

export class Scheduler {
  private readonly running = new Map<string, Placement & { cpuBound: boolean }>();

  constructor(readonly limits: SchedulerLimits) {}

  get size(): number {
    return this.running.size;
  }

  /** Whether another job could start at all (a slot and a free core or a light job's room). */
  hasRoom(): boolean {
    return this.running.size < this.limits.maxConcurrent && this.usedMemory() < this.limits.memoryBudgetBytes;
  }

  usedCores(): number {
    let n = 0;
    for (const r of this.running.values()) if (r.cpuBound) n += r.threads;
    return n;
  }

  usedMemory(): number {
    let n = 0;
    for (const r of this.running.values()) n += r.workingSetBytes;
    return n;
  }

  /**
   * Where a claimed job would run. `waiting` counts the runnable jobs in the queue
   * besides this one: the free cores are split among them so each gets its share.
   */
  decide(resources: JobResources, waiting: number): PlacementDecision {
    const { cores, memoryBudgetBytes } = this.limits;
    if (this.running.size >= this.limits.maxConcurrent) return { start: false, reason: `${this.running.size} job(s) already running (the most this worker runs at once)` };
    const used = this.usedMemory();
    if (this.running.size > 0 && used + resources.workingSetBytes > memoryBudgetBytes)
      return {
        start: false,
        reason: `estimated working set ${gib(resources.workingSetBytes)} does not fit next to the running jobs' ${gib(used)} (budget ${gib(memoryBudgetBytes)}, MERGESCOPE_MEMORY_BUDGET)`,
      };
    if (!resources.cpuBound) return { start: true, placement: { threads: 1, workingSetBytes: resources.workingSetBytes } };
    const free = cores - this.usedCores();
    if (free < 1) return { start: false, reason: `all ${cores} core(s) are in use` };
    const sharing = Math.max(1, Math.min(free, 1 + waiting));
    return { start: true, placement: { threads: Math.max(1, Math.floor(free / sharing)), workingSetBytes: resources.workingSetBytes } };
  }

  start(jobId: string, placement: Placement, cpuBound: boolean): void {
    this.running.set(jobId, { ...placement, cpuBound });
  }

  finish(jobId: string): void {
    this.running.delete(jobId);
  }
}

export function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

/** This worker's share of the machine: the cores and memory budget divided among MERGESCOPE_WORKERS processes. */
export function defaultScheduler(): Scheduler {
  const e = env();
  const workers = Math.max(1, e.workers);
  const cores = Math.max(1, Math.floor(os.availableParallelism() / workers));
  // A running engine call holds one of libuv's pool threads (4 unless UV_THREADPOOL_SIZE, set by `npm start`).
  const uvPool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return new Scheduler({ cores, memoryBudgetBytes: e.memoryBudgetBytes / workers, maxConcurrent: Math.max(1, Math.min(cores, uvPool - 1)) });
}

