// The embedded worker loop's wait between looks at the queue.

/**
 * Resolves when `finished` settles, `ms` pass or the worker shuts down, and leaves no timer or
 * abort listener behind (a `sleep(ms, { signal })` raced against `finished` kept both until it
 * expired: one more per finished job).
 */
export function waitAtMost(finished: Promise<unknown>, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    finished.then(done, done);
  });
}
