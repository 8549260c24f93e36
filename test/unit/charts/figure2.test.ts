// Figure 2 (score vs CT tokens) and the score part of the TIES vs TIES-SV page,
// from real merge jobs and Score rows: series fill in as scores arrive.
import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { compareTiesSv } from "../../../server/services/charts/compare";
import { figure2, mergeOutputs, mergeSeries } from "../../../server/services/charts/scores";
import { experimentContext } from "../../../server/services/charts/context";
import { registerModel } from "../../../server/services/models/registry";
import { drainQueue, freshDataDir, setupExperiment, sweep, type ChartFixture } from "./helpers";

const env = freshDataDir("ms-charts-fig2-");
after(() => env.cleanup());

let fx: ChartFixture;
let outputs: Map<string, string>; // "<method>@<ct label>" → output path

/** Scores are stored as fractions and shown ×100: compare at 1e-9. */
const round = (v: number) => Number(v.toFixed(9));

let n = 0;
async function score(where: { modelId?: string; modelName: string }, task: string, value: number, opts: { split?: "dev" | "test"; metric?: string; filter?: string } = {}) {
  const client = await db();
  await client.score.create({
    data: {
      modelId: where.modelId ?? null,
      modelName: where.modelName,
      task,
      split: opts.split ?? "test",
      metric: opts.metric ?? "acc",
      filter: opts.filter ?? "none",
      value,
      sourceHash: `test-${++n}`,
    },
  });
}

before(async () => {
  fx = await setupExperiment(env.dir, 3);
  await sweep(fx, { type: "merge", methods: ["ties", "ties_sv"], densities: [[0.2], [1.0]] });
  // WAVG: a weighted average, no base model and no trimming.
  const wavg = ["merge_method: linear", "models:", "  - model: ./sft", "    parameters: { weight: 0.5 }", "  - model: ./ct-2B", "    parameters: { weight: 0.5 }", ""].join("\n");
  await sweep(fx, { type: "merge", recipeYaml: wavg });
  assert.equal(await drainQueue(), 9);
  const ctx = await experimentContext(fx.experimentId);
  outputs = new Map((await mergeOutputs(ctx)).map((o) => [`${o.method}@${o.checkpoint.label}`, o.outputPath]));
});

describe("Figure 2 data", () => {
  it("should list every finished merge as a series point-to-be, with an empty state before any score", async () => {
    const f = await figure2({ experimentId: fx.experimentId, split: "test" });
    assert.equal(f.mergeCount, 9);
    assert.equal(f.scoreCount, 0);
    assert.equal(f.scoreCountAnySplit, 0);
    assert.deepEqual(
      f.series.map((s) => [s.label, s.points.length]),
      [
        ["CT", 0],
        ["TIES (k=0.2/1)", 0],
        ["TIES-SV (k=0.2/1, slack 0.04)", 0],
        ["WAVG", 0],
      ],
    );
    assert.deepEqual(
      f.references.map((r) => [r.key, r.value]),
      [
        ["BASE", null],
        ["SFT", null],
      ],
    );
    assert.match(f.scoreLabel, /Telugu average over/);
  });

  it("should fill the series as scores arrive (by model id, by registered merge, by output path)", async () => {
    const task = "belebele_tel_Telu";
    for (const [i, ct] of fx.cts.entries()) await score({ modelId: ct.id, modelName: ct.path }, task, 0.3 + 0.05 * i);
    await score({ modelId: fx.base.id, modelName: "base" }, task, 0.25);
    await score({ modelId: fx.sft.id, modelName: "sft" }, task, 0.28);
    // TIES @2B filed under its MERGED model (finished merges are registered on completion);
    // TIES @4B and TIES-SV @4B only by the path lm-eval wrote as the model name.
    const client = await db();
    const reg =
      (await client.model.findUnique({ where: { path: outputs.get("ties@2B")! } })) ??
      (await registerModel({ path: outputs.get("ties@2B")!, role: "MERGED", name: "TIES-2B" })).model;
    assert.equal(reg.role, "MERGED");
    await client.model.update({ where: { id: reg.id }, data: { name: "TIES-2B" } });
    await score({ modelId: reg.id, modelName: "TIES-2B" }, task, 0.5);
    await score({ modelName: outputs.get("ties@4B")! }, task, 0.55);
    await score({ modelName: outputs.get("ties_sv@4B")! }, task, 0.57);
    await score({ modelId: fx.cts[0]!.id, modelName: "ct" }, task, 0.9, { split: "dev" });

    const f = await figure2({ experimentId: fx.experimentId, split: "test", task });
    const byLabel = new Map(f.series.map((s) => [s.label, s]));
    assert.deepEqual(
      byLabel.get("CT")!.points.map((p) => [p.tokensB, round(p.value)]),
      [
        [2, 30],
        [4, 35],
        [6, 40],
      ],
    );
    assert.deepEqual(
      byLabel.get("TIES (k=0.2/1)")!.points.map((p) => [p.tokensB, round(p.value)]),
      [
        [2, 50],
        [4, 55],
      ],
    );
    assert.equal(byLabel.get("TIES (k=0.2/1)")!.points[0]!.modelName, "TIES-2B");
    assert.deepEqual(byLabel.get("TIES-SV (k=0.2/1, slack 0.04)")!.points.map((p) => round(p.value)), [57]);
    assert.equal(byLabel.get("TIES (k=0.2/1)")!.paperDensities, true);
    assert.deepEqual(
      f.references.map((r) => [r.key, r.value === null ? null : round(r.value)]),
      [
        ["BASE", 25],
        ["SFT", 28],
      ],
    );
    assert.equal(f.scoreLabel, "belebele_tel_Telu: acc, %");
    assert.deepEqual(f.tasks.map((t) => t.task), [task]);
    assert.ok(f.paper.some((p) => p.method === "TIES"), "the paper's Telugu Belebele numbers are offered as reference lines");
    assert.equal(f.scoreCount, 8);
    assert.equal(f.scoreCountAnySplit, 9);

    const dev = await figure2({ experimentId: fx.experimentId, split: "dev", task });
    assert.deepEqual(dev.series.find((s) => s.key === "CT")!.points.map((p) => round(p.value)), [90]);
  });

  it("should find a merge's scores under a registered copy of its output (same digest, another folder)", async () => {
    const task = "belebele_tel_Telu";
    const copy = path.join(env.dir, "copied-merges", "ties-6B-copy");
    cpSync(outputs.get("ties@6B")!, copy, { recursive: true });
    const reg = (await registerModel({ path: copy, name: "TIES-6B copy" })).model;
    assert.equal(reg.role, "MERGED", "the manifest says what the folder is, whatever its name");
    await score({ modelId: reg.id, modelName: "TIES-6B copy" }, task, 0.61);
    const f = await figure2({ experimentId: fx.experimentId, split: "test", task });
    const ties = f.series.find((s) => s.label === "TIES (k=0.2/1)")!;
    assert.deepEqual(ties.points.map((p) => [p.tokensB, round(p.value)]), [
      [2, 50],
      [4, 55],
      [6, 61],
    ]);
    // The point names the merge's first registration (at its output folder); the copy's scores count for it.
    assert.equal(ties.points.at(-1)!.modelName, "merge ties ct-6B d=0.2/1");
  });

  it("should average the language's benchmarks like Table 3 and mark partial averages", async () => {
    const f = await figure2({ experimentId: fx.experimentId, split: "test", task: "avg" });
    const ct = f.series.find((s) => s.key === "CT")!;
    assert.equal(ct.points.length, 3);
    assert.ok(ct.points.every((p) => p.partial && p.detail === "1 of 3 benchmarks"));
    await score({ modelId: fx.cts[2]!.id, modelName: "ct6" }, "sib200_tel_Telu", 0.6);
    await score({ modelId: fx.cts[2]!.id, modelName: "ct6" }, "mgsm_direct_te", 0.1, { metric: "exact_match", filter: "flexible-extract" });
    const g = await figure2({ experimentId: fx.experimentId, split: "test", task: "avg" });
    const last = g.series.find((s) => s.key === "CT")!.points.at(-1)!;
    assert.equal(last.partial, false);
    assert.ok(Math.abs(last.value - (40 + 60 + 10) / 3) < 1e-9);
  });

  it("should name series by method, densities and slack", () => {
    assert.deepEqual(mergeSeries({ method: "ties", densities: [0.2, 1], slack: null }).label, "TIES (k=0.2/1)");
    assert.deepEqual(mergeSeries({ method: "ties_sv", densities: [0.4, 0.8], slack: 0.04 }), {
      key: "ties_sv|0.4|0.8|0.04",
      label: "TIES-SV (k=0.4/0.8, slack 0.04)",
      densities: [0.4, 0.8],
      paper: false,
    });
    assert.equal(mergeSeries({ method: "linear", densities: [1, 1], slack: null }).label, "WAVG");
  });
});

describe("TIES vs TIES-SV scores", () => {
  it("should show each task's score of both merges and the difference", async () => {
    const ckpt = fx.cts[1]!;
    const c = await compareTiesSv({ experimentId: fx.experimentId, checkpointId: ckpt.id, sftDensity: 0.2, ctDensity: 1, split: "test" });
    const row = c.scores.find((s) => s.task === "belebele_tel_Telu")!;
    assert.equal(round(row.ties!), 55);
    assert.equal(round(row.tiesSv!), 57);
    assert.ok(Math.abs(row.diff! - 2) < 1e-9);
    assert.equal(c.slack, 0.04);
    assert.equal(c.scores.at(-1)!.task, "avg");
    // No analyze jobs ran in this file: the merges stored their statistics, and their recipes are shown.
    assert.ok(c.ties, "TIES statistics from the ties merge");
    assert.ok(c.tiesSv, "TIES-SV statistics from the ties_sv merge");
    assert.equal(c.ties.jobId, c.recipes.ties[0]!.jobId);
    assert.equal(c.recipes.ties[0]!.kind, "merge");
    assert.equal(c.recipes.tiesSv[0]!.outputPath, outputs.get("ties_sv@4B"));
  });
});
