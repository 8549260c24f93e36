// Runs one claimed job: validates its payload again (dequeue), keeps the lease
// alive with a heartbeat that also carries progress and notices cancellation,
// and records the outcome with fenced writes.
import { env } from "../env";
import { jobErrorCode, type JobProgress } from "../jobs/definition";
import { jobDefinition } from "../jobs/registry";
import { onJobCompleted } from "../services/jobs/after-complete";
import { appendJobLog, completeJob, failJob, heartbeat, jobLogWriter, LeaseLostError, markCancelled, releaseJob, type ClaimedJob } from "../services/jobs/lease";

const HEARTBEAT_MS = 1000;

export type RunOutcome = "done" | "failed" | "queued" | "cancelled" | "lease-lost" | "released";

export async function runClaimedJob(job: ClaimedJob, shutdown: AbortSignal): Promise<RunOutcome> {
  const token = job.leaseToken;
  const logs = jobLogWriter(job.id, token);
  const log = (level: "info" | "warn" | "error", message: string) => logs.write(level, message);
  const def = jobDefinition(job.type);
  if (!def || def.version !== job.version) {
    await failJob(job.id, token, "JOB_TYPE_UNKNOWN", `no handler for job type ${job.type} v${job.version} in this worker`);
    return "failed";
  }
  const parsed = def.payload.safeParse(JSON.parse(job.payload));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    await failJob(job.id, token, "JOB_PAYLOAD_INVALID", `payload no longer valid for ${job.type} v${job.version}: ${issues}`);
    return "failed";
  }

  const controller = new AbortController();
  let cancelRequested = false;
  let leaseLost = false;
  let latest: JobProgress | null = null;
  let last = { t: Date.now(), bytes: 0 };
  const onShutdown = () => controller.abort(new Error("worker shutting down"));
  shutdown.addEventListener("abort", onShutdown, { once: true });

  let beating = false;
  const beat = async () => {
    // A beat waiting for the write lock (retried in server/db) is not joined by the next one: progress is coalesced.
    if (beating) return;
    beating = true;
    const p = latest;
    try {
      const r = await heartbeat(job.id, token, p ? progressColumns(p) : undefined);
      if (r.cancelRequested && !cancelRequested) {
        cancelRequested = true;
        controller.abort(new Error("cancelled by the user"));
      }
    } catch (err) {
      if (err instanceof LeaseLostError) {
        leaseLost = true;
        controller.abort(err);
      }
    } finally {
      beating = false;
    }
  };
  const timer = setInterval(() => void beat(), HEARTBEAT_MS);

  function progressColumns(p: JobProgress) {
    const now = Date.now();
    const bytes = p.bytesDone ?? 0;
    const dt = (now - last.t) / 1000;
    const rate = p.bytesPerSec ?? (dt > 0.2 && bytes >= last.bytes ? (bytes - last.bytes) / dt : null);
    if (dt > 0.2) last = { t: now, bytes };
    const remaining = p.bytesTotal !== undefined ? p.bytesTotal - bytes : null;
    return {
      phase: p.phase,
      progress: Math.max(0, Math.min(1, p.progress)),
      tensorsDone: p.tensorsDone ?? 0,
      tensorsTotal: p.tensorsTotal ?? 0,
      bytesDone: bytes,
      bytesTotal: p.bytesTotal ?? 0,
      bytesPerSec: rate,
      etaSeconds: p.etaSeconds ?? (rate && rate > 0 && remaining !== null ? remaining / rate : null),
    };
  }

  log("info", `attempt ${job.attempts} started`);
  try {
    const resolved = def.resolve ? await def.resolve(parsed.data) : undefined;
    const outcome = await def.handler(parsed.data, {
      jobId: job.id,
      attempt: job.attempts,
      idempotencyKey: job.idempotencyKey,
      experimentId: job.experimentId,
      signal: controller.signal,
      dataDir: env().dataDir,
      outputDir: env().outputDir,
      resolved,
      reportProgress: (p) => {
        latest = p;
      },
      log,
    });
    clearInterval(timer);
    await logs.flush();
    if (leaseLost) return "lease-lost";
    const parsedResult = def.result.parse(outcome.result);
    await completeJob(job.id, token, {
      result: parsedResult,
      outputPath: outcome.outputPath,
      outputSha256: outcome.outputSha256,
      persist: def.persist
        ? (tx) => def.persist!(tx, { jobId: job.id, experimentId: job.experimentId, payload: parsed.data }, parsedResult, outcome.details)
        : undefined,
    });
    await appendJobLog(job.id, null, "info", "done");
    await onJobCompleted(job.id).catch((err: Error) => appendJobLog(job.id, null, "warn", `after completion: ${err.message}`));
    return "done";
  } catch (err) {
    clearInterval(timer);
    await logs.flush();
    if (leaseLost || err instanceof LeaseLostError) return "lease-lost";
    if (cancelRequested) {
      await markCancelled(job.id, token);
      await appendJobLog(job.id, null, "info", "cancelled; partial output removed");
      return "cancelled";
    }
    if (shutdown.aborted) {
      await releaseJob(job.id, token);
      await appendJobLog(job.id, null, "warn", "worker stopped; job handed back to the queue");
      return "released";
    }
    const code = jobErrorCode(err);
    const message = err instanceof Error ? err.message : String(err);
    log("error", `[${code}] ${message}`);
    await logs.flush();
    return await failJob(job.id, token, code, message);
  } finally {
    clearInterval(timer);
    shutdown.removeEventListener("abort", onShutdown);
  }
}
