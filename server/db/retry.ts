// Waiting for SQLite's write lock without blocking the event loop. Every process
// (web server, workers, recorder, CLI) has its own connection; only one of them
// can write at a time. SQLite's own busy handler waits *synchronously* (the
// whole Node process stalls), so it is kept short (BUSY_TIMEOUT_MS) and a busy
// write is retried here, asynchronously, with bounded exponential backoff and
// jitter. Callers retry whole statements or whole transactions, which SQLite
// rolled back on failure, so a retry never writes anything twice.
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "../errors";

/** SQLite's synchronous busy wait per attempt (ms): short enough not to stall a request. */
export const BUSY_TIMEOUT_MS = 50;

export interface RetryOptions {
  /** Give up once this much time (ms) has passed since the first attempt. Default 30 s. */
  budgetMs?: number;
  /** First backoff (ms); doubles per attempt up to capMs. Defaults 10 / 250. */
  baseMs?: number;
  capMs?: number;
  /** Called before each wait (for logs and tests). */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

export const DEFAULT_RETRY_BUDGET_MS = 30_000;

function codeOf(err: object): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Whether `err` means "another connection holds the write lock" (or this process's Prisma client
 * could not start a transaction in time because its own connection was in use): retrying later
 * can succeed. Looks through the Prisma error, its driver-adapter cause and raw better-sqlite3 errors.
 */
export function isBusyError(err: unknown, depth = 0): boolean {
  if (typeof err !== "object" || err === null || depth > 5) return false;
  // A retry that gave up (below) is final, also for an enclosing retry.
  if (err instanceof AppError) return false;
  const code = codeOf(err);
  // better-sqlite3: SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_BUSY_RECOVERY, …
  if (code?.startsWith("SQLITE_BUSY")) return true;
  // The Prisma adapter maps SQLITE_BUSY* to "SocketTimeout" → P1008 "Operation has timed out".
  if (code === "P1008") return true;
  if (code === "P2028" && /Unable to start a transaction in the given time/.test((err as Error).message ?? "")) return true;
  const cause = (err as { cause?: unknown }).cause;
  if (typeof cause === "object" && cause !== null) {
    const c = cause as { kind?: unknown; originalCode?: unknown };
    if (c.kind === "SocketTimeout") return true;
    if (typeof c.originalCode === "string" && c.originalCode.startsWith("SQLITE_BUSY")) return true;
    if (isBusyError(cause, depth + 1)) return true;
  }
  const meta = (err as { meta?: { driverAdapterError?: unknown } }).meta;
  return meta?.driverAdapterError !== undefined && isBusyError(meta.driverAdapterError, depth + 1);
}

/**
 * Runs `write` (one statement or one whole transaction) and retries it while the database is busy,
 * waiting asynchronously between attempts. Other errors pass through unchanged. After `budgetMs`
 * it fails with AppError UNAVAILABLE naming what could not be written.
 */
export async function withDbRetry<T>(what: string, write: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const budgetMs = opts.budgetMs ?? DEFAULT_RETRY_BUDGET_MS;
  const baseMs = opts.baseMs ?? 10;
  const capMs = opts.capMs ?? 250;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!isBusyError(err)) throw err;
      const elapsed = Date.now() - started;
      const ceiling = Math.min(capMs, baseMs * 2 ** (attempt - 1));
      // "Equal jitter": at least half the step, so retries thin out, plus a random rest so
      // processes that collided once do not collide again in lockstep.
      const delayMs = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
      if (elapsed + delayMs > budgetMs)
        throw new AppError(
          "UNAVAILABLE",
          `${what}: the database stayed locked by another process for ${(elapsed / 1000).toFixed(1)} s (${attempt} attempts); nothing was written — try again`,
          { cause: err },
        );
      opts.onRetry?.({ attempt, delayMs, error: err });
      await sleep(delayMs);
    }
  }
}
