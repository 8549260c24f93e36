// The home page's experiment cards: job counts and a Figure 4 thumbnail that equals the
// figure's own rows (paper densities when analysed); nothing analysed → no thumbnail.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { sweepStats } from "../../../server/services/charts/sweep";
import { figure4Rows, indexSweep } from "../../../server/services/charts/sweep-select";
import { experimentOverviews } from "../../../server/services/experiments/overview";
import { drainQueue, freshDataDir, setupExperiment, sweep } from "../charts/helpers";

const env = freshDataDir("ms-exp-overview-");
after(() => env.cleanup());

describe("experiment overviews", () => {
  it("should give each experiment its job counts and its Figure 4 at the paper's densities as a thumbnail", async () => {
    const fx = await setupExperiment(env.dir, 3, "analysed");
    await sweep(fx, { type: "analyze", methods: ["ties", "ties_sv"], densities: [[0.2, 0.6], [1.0]] });
    assert.equal(await drainQueue(), 12);
    const empty = await setupExperiment(env.dir, 2, "empty");
    await sweep(empty, { type: "analyze", methods: ["ties"], densities: [[0.4], [1.0]] });

    const overviews = await experimentOverviews();
    assert.deepEqual(
      overviews.map((o) => o.name),
      ["empty", "analysed"],
    );
    const [e, a] = overviews;
    assert.deepEqual(e!.jobs, { queued: 2, running: 0, done: 0, failed: 0 });
    assert.equal(e!.thumbnail, null);
    assert.equal(a!.checkpoints, 3);
    assert.deepEqual(a!.jobs, { queued: 0, running: 0, done: 12, failed: 0 });
    assert.equal(a!.thumbnail!.sftDensity, 0.2);
    assert.equal(a!.thumbnail!.ctDensity, 1);
    const rows = figure4Rows(indexSweep(await sweepStats(fx.experimentId)), { sftDensity: 0.2, ctDensity: 1, slack: null });
    assert.deepEqual(
      a!.thumbnail!.points,
      rows.map((r) => ({ tokensB: r.tokensB, label: r.label, ties: r.ties, tiesSv: r.tiesSv })),
    );
    assert.ok(a!.thumbnail!.points.every((p) => p.ties !== null && p.tiesSv !== null && p.ties >= p.tiesSv));
  });
});
