// Enqueues a sweep — CT checkpoints × methods × per-model density grids — as
// one (idempotent) job per grid point. The recipes are expanded on an offload
// thread (sweep-expand.ts): up to 5000 points of YAML is too much work for the
// web server's event loop; each enqueue then awaits the database.
import { offload } from "../../offload/pool";
import { assertExperimentExists, enqueueJob } from "../../jobs/client";
import { createSweep, deleteEmptySweep } from "../../jobs/sweeps";
import type { JobSummary } from "../../jobs/status";
import type { SweepInput } from "./sweep-expand";

export { expandSweep, runsAsSeries, sharedDensityList, type SweepInput } from "./sweep-expand";

export async function enqueueSweep(input: SweepInput, createdById: string | null = null): Promise<{ jobs: JobSummary[]; created: number; sweepId: string | null }> {
  await assertExperimentExists(input.experimentId);
  const jobs: JobSummary[] = [];
  let created = 0;
  const plan = await offload("sweep.plan", input);
  const sweepId = await createSweep({ label: sweepLabel(input), type: input.type, experimentId: input.experimentId ?? null, createdById });
  const grid = plan.shared ? `d=[${plan.shared.join(",")}]^${input.densities!.length}` : "";
  const toQueue: { type: string; payload: Record<string, unknown> }[] = [
    // ties analyses over a shared density list over several checkpoints: ONE analyze-series job
    // (base and SFT read once, each checkpoint once, for the whole grid) instead of one job per point.
    ...(plan.series
      ? [
          {
            type: "analyze-series",
            payload: {
              recipeYamls: plan.engineSweeps.map((r) => r.yaml),
              recipeDir: input.recipeDir,
              label: `${input.labelPrefix ?? "analyze"} ties series of ${plan.engineSweeps.length} checkpoints ${grid}`.slice(0, 200),
              densities: plan.shared,
            },
          },
        ]
      : // A single checkpoint (or a recipe the series pass cannot take: LoRA, tokenizer merge, more
        // models): one analyze-sweep job per checkpoint, one pass over its models for the whole grid.
        plan.engineSweeps.map((r) => ({ type: "analyze-sweep", payload: { recipeYaml: r.yaml, recipeDir: input.recipeDir, label: `${r.label} ${grid}`, densities: plan.shared } }))),
    ...plan.recipes.map((r) => ({ type: input.type, payload: { recipeYaml: r.yaml, recipeDir: input.recipeDir, label: r.label } })),
  ];
  for (const q of toQueue) {
    const e = await enqueueJob({ ...q, priority: input.priority, experimentId: input.experimentId, createdById, sweepId });
    jobs.push(e.job);
    if (e.created) created++;
  }
  // Every point existed already (an identical sweep ran before): no new sweep to show.
  if (created === 0) {
    await deleteEmptySweep(sweepId);
    return { jobs, created, sweepId: null };
  }
  return { jobs, created, sweepId };
}

/** "analyze sweep: 6 checkpoints × ties, ties_sv × 6×2 densities" (the prefix when one was given). */
function sweepLabel(input: SweepInput): string {
  const parts = [
    input.checkpoints?.length ? `${input.checkpoints.length} checkpoint${input.checkpoints.length === 1 ? "" : "s"}` : null,
    input.methods?.length ? input.methods.join(", ") : null,
    input.densities?.length ? `${input.densities.map((d) => d.length).join("×")} densities` : null,
  ].filter((p): p is string => p !== null);
  return `${input.labelPrefix ?? `${input.type} sweep`}: ${parts.join(" × ") || "one recipe"}`.slice(0, 300);
}
