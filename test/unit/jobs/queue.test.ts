import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { resetEnvCache } from "../../../server/env";
import { claimJob, claimStaleFollowUps, completeJob, failJob, finishResumedFollowUp, heartbeat, LeaseLostError, noteWaiting, peekJob, reapExpiredLeases } from "../../../server/jobs/embedded/lease";
import { cancelJob, enqueueJob, listJobs, retryJob } from "../../../server/jobs/client";
import { expandSweep } from "../../../server/services/sweeps/sweep";
import { runClaimedJob } from "../helpers/run-claimed-job";
import { freshDataDir, tiesRecipe, tinyFamily } from "./helpers";

const env = freshDataDir("ms-queue-");
const family = path.join(env.dir, "family");
before(() => {
  tinyFamily(family, { ctCheckpoints: 2 });
});
after(() => env.cleanup());

const payload = (ct = "ct-2B", method = "ties") => ({ recipeYaml: tiesRecipe(family, ct, method), recipeDir: family });
const never = new AbortController().signal;

describe("embedded queue", () => {
  it("should create exactly one job for 20 concurrent identical enqueues", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => enqueueJob({ type: "analyze", payload: payload() })));
    const ids = new Set(results.map((r) => r.job.id));
    assert.equal(ids.size, 1);
    assert.equal(results.filter((r) => r.created).length, 1);
    const client = await db();
    assert.equal(await client.job.count({ where: { type: "analyze" } }), 1);
  });

  it("should reject an invalid payload or recipe at enqueue with the reason", async () => {
    await assert.rejects(enqueueJob({ type: "merge", payload: { recipeYaml: 3 } }), /invalid merge job: recipeYaml/);
    await assert.rejects(enqueueJob({ type: "nope", payload: {} }), /unknown job type 'nope'/);
    await assert.rejects(
      enqueueJob({ type: "merge", payload: { recipeYaml: "merge_method: ties\nslices: []\n", recipeDir: family } }),
      /slices/,
    );
  });

  it("should give a job to one worker only and fence writes by the lease token", async () => {
    const client = await db();
    await client.job.deleteMany({});
    await enqueueJob({ type: "analyze", payload: payload("ct-4B") });
    const [a, b] = await Promise.all([claimJob("host/1/a"), claimJob("host/2/b")]);
    assert.ok((a === null) !== (b === null), "exactly one claim succeeds");
    const job = (a ?? b)!;
    await heartbeat(job.id, job.leaseToken);
    // The lease expires and the job is re-queued: the old token is now stale.
    await client.job.update({ where: { id: job.id }, data: { leaseExpiresAt: new Date(Date.now() - 1) } });
    assert.equal(await reapExpiredLeases(), 1);
    await assert.rejects(heartbeat(job.id, job.leaseToken), LeaseLostError);
    await assert.rejects(completeJob(job.id, job.leaseToken, { result: {} }), LeaseLostError);
    const again = await claimJob("host/3/c");
    assert.equal(again?.id, job.id);
    assert.equal(again?.attempts, 2);
    assert.ok(again!.leaseToken > job.leaseToken);
  });

  it("should let a worker look at the next job without claiming it, and claim exactly that one", async () => {
    const client = await db();
    await client.job.deleteMany({});
    const { job: first } = await enqueueJob({ type: "analyze", payload: payload("ct-2B") });
    await enqueueJob({ type: "analyze", payload: payload("ct-4B") });
    const next = (await peekJob())!;
    assert.equal(next.id, first.id);
    // Waiting for room leaves the job queued and untouched, apart from the reason on its page.
    await noteWaiting(next.id, "memory budget full");
    const waiting = await client.job.findUniqueOrThrow({ where: { id: first.id } });
    assert.deepEqual([waiting.status, waiting.attempts, waiting.startedAt, waiting.phase], ["queued", 0, null, "waiting: memory budget full"]);
    // Another worker takes it meanwhile: claiming exactly that job finds nothing, and the other job is not taken instead.
    assert.equal((await claimJob("host/2/b"))?.id, first.id);
    assert.equal(await claimJob("host/1/a", undefined, first.id), null);
    assert.equal((await client.job.count({ where: { status: "queued" } })), 1);
  });

  it("should fail bad input at once with the engine's code and retry transient errors", async () => {
    const client = await db();
    await client.job.deleteMany({});
    await enqueueJob({ type: "analyze", payload: payload() });
    const j = (await claimJob("host/1/a"))!;
    assert.equal(await failJob(j.id, j.leaseToken, "ST_HEADER_TOO_LARGE", "bad file"), "failed");
    await retryJob(j.id);
    const j2 = (await claimJob("host/1/a"))!;
    assert.equal(await failJob(j2.id, j2.leaseToken, "OUT_IO", "disk hiccup"), "queued");
  });

  it("should resume a follow-up whose worker died between completion and follow-up, exactly once", async () => {
    const client = await db();
    await client.job.deleteMany({});
    const { job } = await enqueueJob({ type: "analyze", payload: payload("ct-2B", "ties_sv") });
    const claimed = (await claimJob("host/1/a"))!;
    // The worker records the completion, then dies before its follow-up runs.
    await completeJob(claimed.id, claimed.leaseToken, { result: { method: "ties_sv", tensors: 0, totals: {}, slackBudget: null }, followUp: true });
    assert.equal((await client.job.findUniqueOrThrow({ where: { id: job.id } })).phase, "after completion");
    assert.deepEqual(await claimStaleFollowUps("host/2/b", 30_000), [], "within the grace period the owner may still be running it");
    const later = Date.now() + 60_000;
    const [first, second] = await Promise.all([claimStaleFollowUps("host/2/b", 30_000, later), claimStaleFollowUps("host/3/c", 30_000, later)]);
    assert.deepEqual([...first!, ...second!], [job.id], "claimed by one worker only");
    await finishResumedFollowUp(job.id);
    assert.equal((await client.job.findUniqueOrThrow({ where: { id: job.id } })).phase, "done");
    assert.deepEqual(await claimStaleFollowUps("host/2/b", 30_000, later), []);
  });

  it("should run an analyze job end to end and store per-tensor statistics", async () => {
    const client = await db();
    await client.job.deleteMany({});
    const { job } = await enqueueJob({ type: "analyze", payload: payload("ct-2B") });
    const claimed = (await claimJob("host/1/a"))!;
    assert.equal(await runClaimedJob(claimed, never), "done");
    const row = await client.job.findUniqueOrThrow({ where: { id: job.id } });
    assert.equal(row.status, "done");
    const analysis = await client.analysis.findFirstOrThrow({ where: { jobId: job.id }, include: { tensors: true } });
    assert.equal(analysis.method, "ties");
    assert.equal(analysis.tensors.length, 2 * 9 + 3); // 9 tensors per layer + embed, norm, lm_head
    const totals = JSON.parse(analysis.totals).totals as { nnz_trimmed: number[]; discarded: number[] };
    assert.ok(totals.nnz_trimmed[0]! > 0);
    assert.ok(totals.discarded[0]! > 0);
  });

  it("should run a merge job, publish a verified output and record its checksum", async () => {
    const client = await db();
    const { job } = await enqueueJob({ type: "merge", payload: payload("ct-4B") });
    const claimed = (await claimJob("host/1/a"))!;
    assert.equal(await runClaimedJob(claimed, never), "done");
    const row = await client.job.findUniqueOrThrow({ where: { id: job.id } });
    assert.equal(row.status, "done");
    assert.match(row.outputSha256 ?? "", /^[0-9a-f]{64}$/);
    assert.ok(row.outputPath?.includes(path.join("data", "merges")));
    // Enqueueing the same work again returns the finished job (no recompute).
    const again = await enqueueJob({ type: "merge", payload: payload("ct-4B") });
    assert.equal(again.created, false);
    assert.equal(again.job.id, job.id);
    assert.equal(again.job.status, "done");
    // The same recipe under another output name is another merge (its own folder), not the old job.
    const renamed = await enqueueJob({ type: "merge", payload: { ...payload("ct-4B"), outputName: "ct4-renamed" } });
    assert.equal(renamed.created, true);
    assert.notEqual(renamed.job.id, job.id);
    await cancelJob(renamed.job.id);
  });

  it("should register a published merge as a MERGED model", async () => {
    const client = await db();
    const done = await client.job.findFirstOrThrow({ where: { type: "merge", status: "done" } });
    const model = await client.model.findUnique({ where: { path: done.outputPath! } });
    assert.equal(model?.role, "MERGED");
  });

  it("should refuse checkpoints outside the allowed model roots at enqueue", async () => {
    const saved = process.env.MERGESCOPE_MODEL_ROOTS;
    process.env.MERGESCOPE_MODEL_ROOTS = path.join(env.dir, "elsewhere");
    resetEnvCache();
    try {
      await assert.rejects(enqueueJob({ type: "merge", payload: payload("ct-2B") }), /outside the allowed model roots/);
    } finally {
      process.env.MERGESCOPE_MODEL_ROOTS = saved;
      resetEnvCache();
    }
  });

  it("should fail a malformed checkpoint once with its error code", async () => {
    const client = await db();
    const fs = await import("node:fs");
    const bad = path.join(env.dir, "bad-ct");
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, "model.safetensors"), Buffer.from([1, 2, 3]));
    const { job } = await enqueueJob({ type: "merge", payload: { recipeYaml: tiesRecipe(family, "../bad-ct"), recipeDir: family } });
    const claimed = (await claimJob("host/1/a"))!;
    assert.equal(claimed.id, job.id);
    assert.equal(await runClaimedJob(claimed, never), "failed");
    const row = await client.job.findUniqueOrThrow({ where: { id: job.id } });
    assert.equal(row.errorCode, "ST_FILE_TOO_SMALL");
    assert.equal(row.attempts, 1);
  });

  it("should cancel a queued job at once", async () => {
    const { job } = await enqueueJob({ type: "analyze", payload: payload("ct-4B", "ties_sv") });
    const c = await cancelJob(job.id);
    assert.equal(c.status, "cancelled");
    assert.equal((await listJobs({ status: ["queued"] })).some((j) => j.id === job.id), false);
  });

  it("should expand a sweep into checkpoints × methods × density pairs", () => {
    const points = expandSweep({
      type: "analyze",
      recipeYaml: tiesRecipe(family, "ct-2B"),
      recipeDir: family,
      checkpoints: ["./ct-2B", "./ct-4B"],
      methods: ["ties", "ties_sv"],
      densities: [[0.2, 0.4, 0.6], [1.0, 0.8]],
    });
    assert.equal(points.length, 2 * 2 * 3 * 2);
    assert.ok(points.some((p) => p.yaml.includes("merge_method: ties_sv") && p.yaml.includes("./ct-4B") && p.yaml.includes("density: 0.6")));
  });
});
