// The evaluation pipeline end to end: a merge finishes → its output is
// registered as a MERGED model → the experiment's evaluation command runs as an
// `evaluate` job (a stand-in script that writes an lm-eval results file; it
// evaluates nothing) → the scores are imported → Figure 2 shows them.
import { createEvalTemplate } from "../../../server/services/scores/eval-templates";
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { figure2 } from "../../../server/services/charts/scores";
import { claimJob } from "../../../server/jobs/embedded/lease";
import { runClaimedJob } from "../helpers/run-claimed-job";
import { freshDataDir, setupExperiment, sweep, type ChartFixture } from "./helpers";

const env = freshDataDir("ms-eval-fig2-");
after(() => env.cleanup());
const never = new AbortController().signal;
const fake = path.resolve("test/fixtures/lm-eval/fake-lm-eval.mjs");
let fx: ChartFixture;

async function drain(): Promise<string[]> {
  const types: string[] = [];
  for (;;) {
    const job = await claimJob("eval-test/1/a");
    if (!job) return types;
    const outcome = await runClaimedJob(job, never);
    assert.equal(outcome, "done", `job ${job.id} (${job.type}) ended ${outcome}`);
    types.push(job.type);
  }
}

before(async () => {
  fx = await setupExperiment(env.dir, 1, "evalfig2");
  const client = await db();
  await client.experiment.update({
    where: { id: fx.experimentId },
    // Telugu ("tel" in the task catalogue): SIB-200, Belebele and MGSM tasks.
    data: {
      language: "tel",
      evalTemplateId: (await createEvalTemplate({ name: "fake lm_eval", command: `${process.execPath} ${fake} --model hf --model_args pretrained={model} --tasks {tasks} --output_path {out}` }, null)).id,
    },
  });
});

describe("evaluation after a merge", () => {
  it("should evaluate a finished merge and show its scores in Figure 2", async () => {
    await sweep(fx, { type: "merge", methods: ["ties"], densities: [[0.2], [1.0]] });
    const first = await drain();

    // The merge, then the evaluation it queued.
    assert.deepEqual(first, ["merge", "evaluate"]);
    const client = await db();
    const merged = await client.model.findFirstOrThrow({ where: { role: "MERGED" } });
    const scores = await client.score.findMany({ where: { modelId: merged.id } });
    assert.ok(scores.length > 0, "the evaluation's scores were imported for the merged model");
    const f = await figure2({ experimentId: fx.experimentId, split: "test" });
    const ties = f.series.find((s) => s.label.startsWith("TIES"));
    assert.ok(ties, JSON.stringify(f.series.map((s) => s.label)));
    assert.equal(ties.points.length, 1, "one point: the single CT checkpoint");
    assert.ok(Number.isFinite(ties.points[0]!.value));
  });
});
