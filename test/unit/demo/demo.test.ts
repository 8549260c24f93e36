import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { createDemoIfEmpty } from "../../../server/services/demo/create-demo";
import { resetEnvCache } from "../../../server/env";
import { freshDataDir } from "../jobs/helpers";

const env = freshDataDir("ms-demo-");
delete process.env.MERGESCOPE_MODEL_ROOTS; // default: the data directory
resetEnvCache();
after(() => env.cleanup());

describe("demo experiment", () => {
  it("should create a synthetic experiment with its sweep and merges on an empty database, once", async () => {
    const r = await createDemoIfEmpty();
    assert.equal(r.created, true, r.reason);
    const client = await db();
    const exp = await client.experiment.findUniqueOrThrow({ where: { id: r.experimentId! }, include: { models: { include: { model: true } } } });
    assert.equal(exp.synthetic, true);
    assert.match(exp.name, /synthetic/i);
    const cts = exp.models.filter((m) => m.role === "CT").map((m) => m.model);
    assert.equal(cts.length, 6);
    assert.deepEqual(cts.map((m) => m.ctTokens).sort((a, b) => a! - b!), [2e9, 4e9, 6e9, 8e9, 10e9, 12e9]);
    assert.ok(cts.every((m) => m.synthetic));
    const jobs = await client.job.findMany({ where: { experimentId: exp.id } });
    // The TIES density sweep (6 checkpoints × 6×6 densities) is one analyze-series job; TIES-SV, DARE-TIES and breadcrumbs-TIES one analyze job per checkpoint each.
    assert.equal(jobs.filter((j) => j.type === "analyze-series").length, 1);
    assert.equal(JSON.parse(jobs.find((j) => j.type === "analyze-series")!.payload).recipeYamls.length, 6);
    assert.equal(jobs.filter((j) => j.type === "analyze").length, 6 * 3);
    assert.equal(jobs.filter((j) => j.type === "merge").length, 12);
    const again = await createDemoIfEmpty();
    assert.equal(again.created, false);
  });
});
