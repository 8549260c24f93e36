// The jobs page's grouped list: a sweep is one row (counts by status, progress) among the
// jobs queued on their own, newest first, paged; filters apply to which rows show and to
// an expanded sweep's jobs. Also at the scale the issue names (10,000 jobs).
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { enqueueJob, listJobs } from "../../../server/jobs/client";
import { listJobGroups } from "../../../server/jobs/sweeps";
import { enqueueSweep } from "../../../server/services/sweeps/sweep";
import { freshDataDir, tiesRecipe, tinyFamily } from "./helpers";

const env = freshDataDir("ms-job-groups-");
const family = path.join(env.dir, "family");
before(() => {
  tinyFamily(family, { ctCheckpoints: 3 });
});
after(() => env.cleanup());

describe("grouped jobs list", () => {
  it("should show a sweep as one row with its counts, among single jobs, newest first", async () => {
    const single = await enqueueJob({ type: "analyze", payload: { recipeYaml: tiesRecipe(family, "ct-2B"), recipeDir: family, label: "alone" } });
    const sweep = await enqueueSweep({
      type: "merge",
      recipeYaml: tiesRecipe(family, "ct-2B"),
      recipeDir: family,
      checkpoints: ["./ct-2B", "./ct-4B", "./ct-6B"],
      methods: ["ties", "ties_sv"],
      labelPrefix: "merges",
    });
    assert.equal(sweep.created, 6);
    assert.ok(sweep.sweepId);
    const client = await db();
    // One of the sweep's jobs failed, one is running at 50 %.
    await client.job.update({ where: { id: sweep.jobs[0]!.id }, data: { status: "failed" } });
    await client.job.update({ where: { id: sweep.jobs[1]!.id }, data: { status: "running", progress: 0.5 } });

    const g = await listJobGroups({});
    assert.equal(g.totalRows, 2);
    assert.deepEqual(
      g.rows.map((r) => r.kind),
      ["sweep", "job"],
    );
    const row = g.rows[0]!;
    assert.ok(row.kind === "sweep");
    assert.equal(row.sweep.label, "merges: 3 checkpoints × ties, ties_sv");
    assert.equal(row.sweep.total, 6);
    assert.deepEqual(row.sweep.counts, { queued: 4, running: 1, done: 0, failed: 1, cancelled: 0 });
    assert.equal(row.sweep.progress, (1 + 0.5) / 6);
    assert.deepEqual(g.counts, { queued: 5, running: 1, done: 0, failed: 1, cancelled: 0 });
    assert.equal(g.rows[1]!.kind === "job" && g.rows[1]!.job.id, single.job.id);

    // Filters: only failed jobs → the sweep shows (1 of 6 matching), the single job does not.
    const failed = await listJobGroups({ status: ["failed"] });
    assert.equal(failed.totalRows, 1);
    assert.ok(failed.rows[0]!.kind === "sweep" && failed.rows[0]!.sweep.matching === 1);
    assert.deepEqual(
      (await listJobs({ sweepId: sweep.sweepId!, status: ["failed"] })).map((j) => j.id),
      [sweep.jobs[0]!.id],
    );
    assert.equal((await listJobs({ sweepId: sweep.sweepId! })).length, 6);

    // The same sweep again creates no job and no empty sweep row.
    const again = await enqueueSweep({ type: "merge", recipeYaml: tiesRecipe(family, "ct-2B"), recipeDir: family, checkpoints: ["./ct-2B", "./ct-4B", "./ct-6B"], methods: ["ties", "ties_sv"] });
    assert.deepEqual([again.created, again.sweepId], [0, null]);
    assert.equal(await client.sweep.count(), 1);
  });

  it("should page through 10,000 jobs in 10 sweeps and 20 single jobs", async () => {
    const client = await db();
    await client.job.deleteMany({});
    await client.sweep.deleteMany({});
    const t0 = Date.UTC(2026, 0, 1);
    const job = (i: number, sweepId: string | null) => ({
      type: "analyze",
      version: 1,
      payload: "{}",
      idempotencyKey: `scale-${i}`,
      status: i % 7 === 0 ? "done" : "queued",
      sweepId,
      createdAt: new Date(t0 + i * 1000),
    });
    const rows = [];
    for (let s = 0; s < 10; s++) {
      const { id } = await client.sweep.create({ data: { label: `sweep ${s}`, type: "analyze", createdAt: new Date(t0 + s * 998_000) } });
      for (let i = 0; i < 998; i++) rows.push(job(s * 998 + i, id));
    }
    for (let i = 0; i < 20; i++) rows.push(job(9980 + i, null));
    for (let i = 0; i < rows.length; i += 2000) await client.job.createMany({ data: rows.slice(i, i + 2000) });
    assert.equal(await client.job.count(), 10_000);

    const first = await listJobGroups({ pageSize: 25 });
    assert.equal(first.totalRows, 30);
    assert.equal(first.rows.length, 25);
    // Newest first: the 20 single jobs (created last), then the sweeps from the latest.
    assert.deepEqual(first.rows.slice(0, 20).map((r) => r.kind), Array(20).fill("job"));
    assert.ok(first.rows[20]!.kind === "sweep" && first.rows[20]!.sweep.label === "sweep 9");
    assert.ok(first.rows[20]!.kind === "sweep" && first.rows[20]!.sweep.total === 998);
    const second = await listJobGroups({ pageSize: 25, page: 1 });
    assert.deepEqual(second.rows.map((r) => (r.kind === "sweep" ? r.sweep.label : r.job.id)), ["sweep 4", "sweep 3", "sweep 2", "sweep 1", "sweep 0"]);
    assert.equal(first.counts.done + first.counts.queued, 10_000);
    assert.equal((await listJobGroups({ pageSize: 25, page: 2 })).rows.length, 0);
  });
});
