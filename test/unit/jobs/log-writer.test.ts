// A running job's log is written in batches: lines keep their order and the
// time they were logged, one flush writes them all, and a worker whose lease
// was taken over (stale token) writes nothing.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { jobLogWriter } from "../../../server/jobs/embedded/lease";
import { freshDataDir } from "../scores/helpers";

const env = freshDataDir("ms-job-log-writer-");
after(() => env.cleanup());

async function runningJob(key: string) {
  return (await db()).job.create({ data: { type: "analyze", version: 1, payload: "{}", idempotencyKey: key, status: "running", leaseToken: 3 } });
}

describe("Job log writer", () => {
  it("should write buffered lines in order, with the time they were logged, in one flush", async () => {
    const job = await runningJob("log-a");
    const logs = jobLogWriter(job.id, 3);
    const before = Date.now();
    for (let i = 0; i < 50; i++) logs.write(i % 10 === 0 ? "warn" : "info", `line ${i}`);
    const logged = Date.now();
    const client = await db();
    assert.equal(await client.jobLog.count({ where: { jobId: job.id } }), 0, "nothing written before the flush");
    await new Promise((r) => setTimeout(r, 50));
    await logs.flush();
    const rows = await client.jobLog.findMany({ where: { jobId: job.id }, orderBy: { id: "asc" } });
    assert.deepEqual(
      rows.map((r) => r.message),
      Array.from({ length: 50 }, (_, i) => `line ${i}`),
    );
    assert.equal(rows[10]!.level, "warn");
    // The flush came ≥ 50 ms after the last line was logged.
    assert.ok(rows.every((r) => r.ts.getTime() >= before && r.ts.getTime() <= logged), "each line keeps the time it was logged, not the flush's");
  });

  it("should flush on its own after a short delay", async () => {
    const job = await runningJob("log-b");
    jobLogWriter(job.id, 3).write("info", "by itself");
    const client = await db();
    const t0 = Date.now();
    while ((await client.jobLog.count({ where: { jobId: job.id } })) === 0) {
      assert.ok(Date.now() - t0 < 10_000, "the line was written within seconds");
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it("should drop the lines of a worker that lost its lease", async () => {
    const job = await runningJob("log-c");
    const stale = jobLogWriter(job.id, 2);
    stale.write("info", "from a stale worker");
    await stale.flush();
    assert.equal(await (await db()).jobLog.count({ where: { jobId: job.id } }), 0);
  });
});
