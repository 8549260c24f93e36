// The `import-scores` job: results files already on the server (inside the
// model roots or the data directory), imported in the job's completion.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { claimJob } from "../../../server/jobs/embedded/lease";
import { enqueueJob, getJob } from "../../../server/jobs/client";
import { listScores } from "../../../server/services/scores/import";
import { runClaimedJob } from "../helpers/run-claimed-job";
import { FIXTURES, freshDataDir, registerModel } from "./helpers";

const env = freshDataDir("ms-scores-importjob-");
after(() => env.cleanup());
const never = new AbortController().signal;

async function runNext() {
  const job = await claimJob(`test/${process.pid}/i`);
  assert.ok(job);
  const outcome = await runClaimedJob(job, never);
  return { outcome, details: await getJob(job.id) };
}

describe("import-scores job", () => {
  it("should import the results files of a server-side folder", async () => {
    const dir = path.join(env.dir, "evals", "run1", "nested");
    mkdirSync(dir, { recursive: true });
    copyFileSync(path.join(FIXTURES, "results_2024-06-01T10-15-30.123456.json"), path.join(dir, "results_2024-06-01T10-15-30.123456.json"));
    copyFileSync(path.join(FIXTURES, "results_legacy-0.3.json"), path.join(env.dir, "evals", "results_legacy.json"));
    const model = await registerModel(env.dir, "TIES-ben-flan");
    const { created } = await enqueueJob({ type: "import-scores", payload: { paths: [path.join(env.dir, "evals")], modelId: model.id, split: "test" } });
    assert.ok(created);
    const { outcome, details } = await runNext();
    assert.equal(outcome, "done");
    const result = details.result as { files: { path: string; scores: number }[] };
    assert.deepEqual(result.files.map((f) => [path.basename(f.path), f.scores]).sort(), [["results_2024-06-01T10-15-30.123456.json", 10], ["results_legacy.json", 3]]);
    assert.equal((await listScores({ modelId: model.id })).length, 13);
    const client = await db();
    assert.equal(await client.scoreImport.count({ where: { jobId: details.job.id } }), 2);
    // The same files again: the same job (idempotent), nothing duplicated.
    const again = await enqueueJob({ type: "import-scores", payload: { paths: [path.join(env.dir, "evals")], modelId: model.id, split: "test" } });
    assert.equal(again.created, false);
  });

  it("should refuse paths outside the allowed folders, and fail on a malformed file with its line", async () => {
    await assert.rejects(enqueueJob({ type: "import-scores", payload: { paths: ["/etc/passwd"] } }), /"\/etc\/passwd" is outside the allowed folders/);
    await assert.rejects(enqueueJob({ type: "import-scores", payload: { paths: [path.join(env.dir, "missing.json")] } }), /does not exist/);
    const bad = path.join(env.dir, "results_bad.json");
    copyFileSync(path.join(FIXTURES, "malformed/results_2024.json"), bad);
    await enqueueJob({ type: "import-scores", payload: { paths: [bad] } });
    const { outcome, details } = await runNext();
    assert.equal(outcome, "failed");
    assert.equal(details.job.errorCode, "INVALID_ARGUMENT");
    assert.equal(details.job.errorMessage, `${bad} line 14: results.belebele_ben_Beng: expected an object of metric values, got a string`);
  });
});
