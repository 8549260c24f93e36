// Runs CPU-heavy, synchronous work on request input (YAML and results-file
// parsing, reading a checkpoint's headers) on worker threads, so one request
// cannot block the web server's event loop: the `yaml` package parses ~0.4 MB/s
// here, a 16 KiB recipe took 35–380 ms inline. Tasks are the pure functions in
// tasks.ts; their errors come back as the same classes (errors.ts). A task that
// runs past its deadline has its thread terminated and fails with a 4xx.
import { existsSync } from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { AppError } from "../errors";
import { deserializeError, type SerializedError } from "./errors";
import type { TaskInput, TaskName, TaskOutput } from "./tasks";

const THREADS = 2;
export const DEFAULT_TASK_TIMEOUT_MS = 30_000;

interface Pending {
  id: number;
  name: TaskName;
  input: unknown;
  timeoutMs: number;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

interface Slot {
  worker: Worker;
  busy: Pending | null;
  timer: NodeJS.Timeout | null;
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

function projectRoot(): string {
  // As server/engine/native.ts: the launcher sets MERGESCOPE_ROOT; otherwise the current directory.
  return process.env.MERGESCOPE_ROOT ?? process.cwd();
}

const queue: Pending[] = [];
const slots: Slot[] = [];
let nextId = 1;

function spawn(): Slot {
  // thread.ts compiled with the other Node entry points (scripts/build-node.mjs); never bundled by Next.
  const entry = path.join(/* turbopackIgnore: true */ projectRoot(), "dist", "node", "offload-thread.mjs");
  if (!existsSync(entry)) throw new AppError("UNAVAILABLE", `${entry} is missing: run \`npm run build:node\` (npm install and npm run build do)`);
  const worker = new Worker(/* webpackIgnore: true */ /* turbopackIgnore: true */ entry);
  const slot: Slot = { worker, busy: null, timer: null };
  worker.unref(); // idle threads never keep a process alive
  worker.on("message", (m: Reply) => {
    const job = slot.busy;
    if (!job || job.id !== m.id) return;
    finish(slot);
    if (m.ok) job.resolve(m.value);
    else job.reject(deserializeError(m.error));
    pump();
  });
  const die = (err: Error) => {
    const job = slot.busy;
    slots.splice(slots.indexOf(slot), 1);
    if (job) {
      finish(slot);
      job.reject(new AppError("INTERNAL", `the ${job.name} worker thread stopped: ${err.message}`, { cause: err }));
    }
    pump();
  };
  worker.on("error", die);
  worker.on("exit", (code) => {
    if (slots.includes(slot)) die(new Error(`exit code ${code}`));
  });
  slots.push(slot);
  return slot;
}

function finish(slot: Slot): void {
  if (slot.timer) clearTimeout(slot.timer);
  slot.timer = null;
  slot.busy = null;
  slot.worker.unref();
}

function pump(): void {
  while (queue.length > 0) {
    let slot: Slot | null;
    try {
      slot = slots.find((s) => s.busy === null) ?? (slots.length < THREADS ? spawn() : null);
    } catch (err) {
      for (const job of queue.splice(0)) job.reject(err);
      return;
    }
    if (!slot) return;
    const job = queue.shift()!;
    slot.busy = job;
    slot.worker.ref(); // a pending task keeps the process alive until it answers
    slot.timer = setTimeout(() => {
      slots.splice(slots.indexOf(slot), 1);
      finish(slot);
      void slot.worker.terminate();
      job.reject(
        new AppError("BAD_INPUT", `the input took longer than ${Math.round(job.timeoutMs / 1000)} s to process (${job.name}) and was refused; it is too large or too complex`),
      );
      pump();
    }, job.timeoutMs);
    slot.worker.postMessage({ id: job.id, name: job.name, input: job.input });
  }
}

/** Runs task `name` of tasks.ts on an offload thread. */
export function offload<K extends TaskName>(name: K, input: TaskInput<K>, opts: { timeoutMs?: number } = {}): Promise<TaskOutput<K>> {
  return new Promise((resolve, reject) => {
    queue.push({ id: nextId++, name, input, timeoutMs: opts.timeoutMs ?? DEFAULT_TASK_TIMEOUT_MS, resolve: resolve as (v: unknown) => void, reject });
    pump();
  });
}

/** Stops the threads (tests; a server just exits). */
export async function closeOffloadThreads(): Promise<void> {
  const all = slots.splice(0);
  await Promise.all(all.map((s) => s.worker.terminate()));
}
