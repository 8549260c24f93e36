// The embedded worker's wait between looks at the queue: it ends on the first of a finished job,
// its timeout or the shutdown, and leaves no timer or abort listener behind (one per finished job
// piled up on the shutdown signal before: Node's MaxListenersExceededWarning in a 720-job sweep).
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import { waitAtMost } from "../../../server/jobs/embedded/wait";

describe("worker wait", () => {
  it("should end when a job finishes and leave no listener on the shutdown signal", async () => {
    const shutdown = new AbortController();
    for (let i = 0; i < 50; i++) {
      const t0 = Date.now();
      await waitAtMost(Promise.resolve(), 60_000, shutdown.signal);
      assert.ok(Date.now() - t0 < 1000);
    }
    assert.equal(getEventListeners(shutdown.signal, "abort").length, 0);
  });

  it("should end at its timeout, on shutdown, and at once when already shut down", async () => {
    const shutdown = new AbortController();
    const never = new Promise<void>(() => {});
    let t0 = Date.now();
    await waitAtMost(never, 30, shutdown.signal);
    assert.ok(Date.now() - t0 >= 25);
    const pending = waitAtMost(never, 60_000, shutdown.signal);
    assert.equal(getEventListeners(shutdown.signal, "abort").length, 1);
    t0 = Date.now();
    shutdown.abort();
    await pending;
    assert.ok(Date.now() - t0 < 1000);
    assert.equal(getEventListeners(shutdown.signal, "abort").length, 0);
    await waitAtMost(never, 60_000, shutdown.signal);
  });
});
