// Shared setup for the chart tests: a tiny synthetic family registered as an
// experiment (base, SFT, CT checkpoints), sweeps run through the real job queue.
import path from "node:path";
import { claimJob } from "../../../server/jobs/embedded/lease";
import { enqueueSweep, type SweepInput } from "../../../server/services/sweeps/sweep";
import { createExperiment } from "../../../server/services/experiments/store";
import { registerModel } from "../../../server/services/models/registry";
import type { ModelSummary } from "../../../server/services/models/schemas";
import { runClaimedJob } from "../helpers/run-claimed-job";
import { tiesRecipe, tinyFamily } from "../jobs/helpers";

export { freshDataDir, tiesRecipe, tinyFamily } from "../jobs/helpers";

export interface ChartFixture {
  family: string;
  experimentId: string;
  base: ModelSummary;
  sft: ModelSummary;
  cts: ModelSummary[];
}

/** Generates the family and registers it as an experiment (language Telugu). */
export async function setupExperiment(root: string, ctCheckpoints = 3, name = "charts"): Promise<ChartFixture> {
  const family = path.join(root, name);
  tinyFamily(family, { ctCheckpoints });
  const base = (await registerModel({ path: path.join(family, "base"), role: "BASE", name: `${name}-base` })).model;
  const sft = (await registerModel({ path: path.join(family, "sft"), role: "SFT", name: `${name}-sft` })).model;
  const cts: ModelSummary[] = [];
  for (let i = 1; i <= ctCheckpoints; i++) {
    cts.push((await registerModel({ path: path.join(family, `ct-${2 * i}B`), role: "CT", name: `${name}-ct-${2 * i}B`, language: "tel" })).model);
  }
  const exp = await createExperiment({ name, language: "tel", baseModelId: base.id, sftModelId: sft.id, ctModelIds: cts.map((c) => c.id) });
  return { family, experimentId: exp.id, base, sft, cts };
}

/** Queues a sweep the way the UI and `mergescope submit --sweep-*` do. */
export async function sweep(fx: ChartFixture, input: Partial<SweepInput> & Pick<SweepInput, "type">): Promise<number> {
  const r = await enqueueSweep({
    recipeYaml: tiesRecipe(fx.family, "ct-2B"),
    recipeDir: fx.family,
    checkpoints: fx.cts.map((c) => c.path),
    experimentId: fx.experimentId,
    ...input,
  });
  return r.created;
}

const never = new AbortController().signal;

/** Runs queued analyze / merge jobs in this process until none is left. */
export async function drainQueue(): Promise<number> {
  let n = 0;
  for (;;) {
    const job = await claimJob("charts-test/1/a", ["analyze", "analyze-sweep", "analyze-series", "merge"]);
    if (!job) return n;
    const outcome = await runClaimedJob(job, never);
    if (outcome !== "done") throw new Error(`job ${job.id} (${job.type}) ended ${outcome}`);
    n++;
  }
}
