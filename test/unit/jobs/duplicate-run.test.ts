// A job can run twice at once: a scale-out worker that lost its Redis lock (an outage
// longer than the lock) keeps merging while the stalled job runs again elsewhere. The
// second run to publish must reuse the first run's identical, verified output instead of
// failing the job with OUT_EXISTS (a permanent error).
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { mergeJob, mergePayloadSchema } from "../../../server/jobs/types/merge";
import type { JobContext } from "../../../server/jobs/definition";
import { freshDataDir, tiesRecipe, tinyFamily } from "./helpers";

const env = freshDataDir("ms-duplicate-run-");
const family = path.join(env.dir, "family");
const outputDir = path.join(env.dir, "merges");

function context(attempt: number): JobContext {
  return {
    jobId: "job-1",
    attempt,
    idempotencyKey: "0123456789abcdef".repeat(4),
    experimentId: null,
    signal: new AbortController().signal,
    dataDir: path.join(env.dir, "data"),
    outputDir,
    resolved: undefined,
    threads: 1,
    reportProgress: () => {},
    log: () => {},
  };
}

before(() => {
  tinyFamily(family, { ctCheckpoints: 1, hidden: 128, layers: 2, vocab: 2048 });
});
after(() => env.cleanup());

describe("merge job run twice at once", () => {
  it("should publish one output and let both runs succeed with it", async () => {
    const payload = mergePayloadSchema.parse({ recipeYaml: tiesRecipe(family, "ct-2B"), recipeDir: family });
    const runs = await Promise.allSettled([mergeJob.handler(payload, context(1)), mergeJob.handler(payload, context(2))]);
    const failures = runs.flatMap((r) => (r.status === "rejected" ? [`${(r.reason as { code?: string }).code}: ${(r.reason as Error).message}`] : []));
    assert.deepEqual(failures, [], "no run fails");
    const outcomes = runs.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof mergeJob.handler>>>).value);
    assert.equal(new Set(outcomes.map((o) => o.outputSha256)).size, 1, "both report the same output");
    const left = readdirSync(outputDir);
    assert.deepEqual({ published: left.filter((n) => !n.startsWith(".")).length, stagingLeft: left.filter((n) => n.startsWith(".")).length }, { published: 1, stagingLeft: 0 }, left.join(", "));
  });
});
