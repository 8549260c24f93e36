// The one job runner, used by both worker kinds (embedded lease queue and
// BullMQ): looks the definition up, validates the payload again (dequeue),
// builds the handler's context, polls the backend for cancellation while
// reporting progress, validates the result, and classifies the outcome. What
// the outcome means for the job's row is the backend's business.
import { env } from "../env";
import { jobErrorCode, type JobDefinition, type JobProgress } from "./definition";
import { isPermanentErrorCode } from "./error-codes";
import { jobDefinition } from "./registry";
import { ProgressMeter, type ProgressColumns } from "./state";

export interface RunnableJob {
  id: string;
  type: string;
  version: number;
  /** Parsed JSON of the stored payload (validated again here). */
  payload: unknown;
  attempt: number;
  idempotencyKey: string;
  experimentId: string | null;
  /** Server-side configuration looked up at enqueue (scale-out) — else the runner calls `resolve`. */
  resolved?: unknown;
}

/** How the runner talks to the backend that holds the job while it runs. */
export interface RunPort {
  /** How often `poll` runs. */
  pollMs: number;
  /** Renews the hold on the job, publishes the newest progress (null: unchanged); says whether cancel was asked. */
  poll(progress: ProgressColumns | null): Promise<{ cancelRequested: boolean }>;
  log(level: "info" | "warn" | "error", message: string): Promise<void>;
  /** Thrown by `poll` when the job was taken away (lease lost): the run stops and its result is dropped. */
  isLostError(err: unknown): boolean;
}

export type RunResult =
  | { kind: "done"; def: JobDefinition<unknown, unknown>; payload: unknown; result: unknown; outputPath?: string; outputSha256?: string; details?: unknown }
  | { kind: "failed"; code: string; message: string; permanent: boolean }
  | { kind: "cancelled" }
  | { kind: "lost" }
  | { kind: "shutdown" };

function issuesOf(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `${i.path.map(String).join(".") || "payload"}: ${i.message}`).join("; ");
}

/** The definition and validated payload of a queued job, or the permanent failure that stops it. */
export function prepareJob(job: Pick<RunnableJob, "type" | "version" | "payload">):
  | { ok: true; def: JobDefinition<unknown, unknown>; payload: unknown }
  | { ok: false; failure: Extract<RunResult, { kind: "failed" }> } {
  const def = jobDefinition(job.type);
  if (!def || def.version !== job.version)
    return { ok: false, failure: { kind: "failed", code: "JOB_TYPE_UNKNOWN", message: `no handler for job type ${job.type} v${job.version} in this worker`, permanent: true } };
  const parsed = def.payload.safeParse(job.payload);
  if (!parsed.success)
    return { ok: false, failure: { kind: "failed", code: "JOB_PAYLOAD_INVALID", message: `payload no longer valid for ${job.type} v${job.version}: ${issuesOf(parsed.error)}`, permanent: true } };
  return { ok: true, def, payload: parsed.data };
}

export async function runJob(job: RunnableJob, port: RunPort, opts: { threads: number; shutdown: AbortSignal }): Promise<RunResult> {
  const prepared = prepareJob(job);
  if (!prepared.ok) return prepared.failure;
  const { def, payload } = prepared;

  const controller = new AbortController();
  let cancelRequested = false;
  let lost = false;
  const meter = new ProgressMeter();
  let latest: JobProgress | null = null;
  let published: JobProgress | null = null;
  const onShutdown = () => controller.abort(new Error("worker shutting down"));
  opts.shutdown.addEventListener("abort", onShutdown, { once: true });

  let polling: Promise<void> | null = null;
  const poll = async () => {
    const p = latest;
    try {
      const r = await port.poll(p && p !== published ? meter.columns(p) : null);
      published = p;
      if (r.cancelRequested && !cancelRequested) {
        cancelRequested = true;
        controller.abort(new Error("cancelled by the user"));
      }
    } catch (err) {
      if (port.isLostError(err)) {
        lost = true;
        controller.abort(err);
      }
      // other poll errors (a busy database, Redis briefly away) are retried on the next beat
    }
  };
  // One poll in flight at a time: a slow write never piles up beats behind it.
  const timer = setInterval(() => {
    polling ??= poll().finally(() => (polling = null));
  }, port.pollMs);

  // A log line that cannot be written (Redis briefly away) must not fail the run.
  await port.log("info", `attempt ${job.attempt} started (${opts.threads} engine thread${opts.threads === 1 ? "" : "s"})`).catch(() => {});
  try {
    const resolved = job.resolved !== undefined ? job.resolved : def.resolve ? await def.resolve(payload) : undefined;
    const outcome = await def.handler(payload, {
      jobId: job.id,
      attempt: job.attempt,
      idempotencyKey: job.idempotencyKey,
      experimentId: job.experimentId,
      signal: controller.signal,
      dataDir: env().dataDir,
      outputDir: env().outputDir,
      resolved,
      threads: opts.threads,
      reportProgress: (p) => {
        latest = p;
      },
      log: (level, message) => void port.log(level, message).catch(() => {}),
    });
    if (lost) return { kind: "lost" };
    const result = def.result.parse(outcome.result);
    return { kind: "done", def, payload, result, outputPath: outcome.outputPath, outputSha256: outcome.outputSha256, details: outcome.details };
  } catch (err) {
    if (lost || port.isLostError(err)) return { kind: "lost" };
    if (cancelRequested) return { kind: "cancelled" };
    if (opts.shutdown.aborted) return { kind: "shutdown" };
    const code = jobErrorCode(err);
    const message = err instanceof Error ? err.message : String(err);
    return { kind: "failed", code, message, permanent: isPermanentErrorCode(code) };
  } finally {
    clearInterval(timer);
    await polling;
    opts.shutdown.removeEventListener("abort", onShutdown);
  }
}
