// What crosses Redis between the server (producer, recorder) and scale-out
// workers: the job's data, its return value, and failure reasons that carry
// the stable error code first.
export interface RedisJobData {
  id: string;
  type: string;
  version: number;
  payload: unknown;
  experimentId: string | null;
  idempotencyKey: string;
  /** The job definition's `resolve` result, looked up by the producer (workers never open the database). */
  resolved?: unknown;
}

export interface RedisJobReturn {
  result: unknown;
  outputPath: string | null;
  outputSha256: string | null;
  details: unknown;
}

/** Failure reasons carry the stable code first: "[CODE] message". */
export function encodeFailure(code: string, message: string): string {
  return `[${code}] ${message}`;
}

export function decodeFailure(reason: string): { code: string; message: string } {
  const m = /^\[([A-Z0-9_]+)\] ([\s\S]*)$/.exec(reason);
  return m ? { code: m[1]!, message: m[2]! } : { code: "JOB_FAILED", message: reason };
}

