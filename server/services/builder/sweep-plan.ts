// builder.sweepPlan: a sweep over CT checkpoints × methods × densities as the
// jobs.sweep calls that queue it — one per method, each with a recipe built
// and validated for that method (so e.g. linear drops base_model and
// densities, ties_sv gets a favored model, slerp drops weights) — and how many jobs it makes.
import { db } from "../../db/client";
import { runsAsSeries, sharedDensityList } from "../sweeps/sweep";
import { METHOD_LABELS } from "../experiments/lineage";
import { normalizeAfterSwitch, usesDensity } from "./method-rules";
import { buildRecipeYaml, builderRecipeDir, loadModelRefs, validateRecipeYaml } from "./recipe-build";
import type { BuilderSettings, RecipeIssueOut, SweepPlanInput, SweepPlanResult, SweepRequest } from "./schemas";

function failed(issues: RecipeIssueOut[]): SweepPlanResult {
  return { ok: false, issues, requests: [], jobCount: 0 };
}

export async function planSweep(input: SweepPlanInput): Promise<SweepPlanResult> {
  const s = input.settings;
  const refs = await loadModelRefs([s.baseModelId, ...s.models.map((m) => m.modelId), ...input.checkpointIds]);
  const issues: RecipeIssueOut[] = [];
  if (s.slices?.length) {
    // The sweep swaps the CT model of `models:`; a slices recipe names its models per slice.
    return failed([{ path: "slices", line: null, message: "sweeps replace the CT model of a `models:` recipe; a recipe with slices (layer swap) is queued on its own with Queue merge" }]);
  }
  const checkpoints = input.checkpointIds.map((id) => refs.get(id));
  input.checkpointIds.forEach((id, i) => {
    if (!checkpoints[i]) issues.push({ path: `checkpoints[${i}]`, line: null, message: `model ${id} is not registered (deleted?); untick it` });
  });
  // The recipe entry the checkpoints replace: one of them, else the first CT-like model.
  let ctIndex = s.models.findIndex((m) => input.checkpointIds.includes(m.modelId));
  if (ctIndex < 0) ctIndex = s.models.findIndex((m) => ["CT", "CTSFT"].includes(refs.get(m.modelId)?.role ?? ""));
  if (ctIndex < 0) {
    issues.push({
      path: "models",
      line: null,
      message: "none of the merged models is a CT checkpoint, so there is nothing for the sweep to replace; add a CT checkpoint to the models",
    });
  }
  const sweepsDensity = input.methods.some(usesDensity);
  if (sweepsDensity && input.densities.length !== s.models.length) {
    issues.push({ path: "densities", line: null, message: `give one density list per model (${s.models.length}), got ${input.densities.length}` });
  }
  if (issues.length > 0) return failed(issues);

  let experimentName: string | null = null;
  if (s.experimentId) {
    const client = await db();
    experimentName = (await client.experiment.findUnique({ where: { id: s.experimentId }, select: { name: true } }))?.name ?? null;
  }
  const recipeDir = builderRecipeDir();
  const requests: SweepRequest[] = [];
  let jobCount = 0;
  for (const method of [...new Set(input.methods)]) {
    const settings: BuilderSettings = {
      ...s,
      method,
      normalize: normalizeAfterSwitch(s.method, method, s.normalize),
      models: s.models.map((m) => ({ ...m })),
    };
    if (method === "ties_sv" && !settings.models.some((m) => m.favored)) {
      // The paper favors the SFT model: the first entry that is not the swept one.
      const fav = settings.models.findIndex((_, i) => i !== ctIndex);
      settings.models[fav >= 0 ? fav : 0]!.favored = true;
    }
    if (method === "ties_sv") settings.consensus = "sum";
    const built = buildRecipeYaml(settings, refs);
    const v = built.issues.length > 0 ? { ok: false as const, issues: built.issues } : validateRecipeYaml(built.yaml, recipeDir);
    if (!v.ok) {
      issues.push(...v.issues.map((i) => ({ ...i, message: `${METHOD_LABELS[method] ?? method}: ${i.message}` })));
      continue;
    }
    const densities = usesDensity(method) ? input.densities.map((d) => [...new Set(d)].sort((a, b) => a - b)) : undefined;
    // ties analyses over one shared density list run as one engine pass per checkpoint
    const engineSweep = method === "ties" && sharedDensityList({ type: input.type, densities }) !== null;
    const points = densities && !engineSweep ? densities.reduce((n, d) => n * d.length, 1) : 1;
    // ... and over several checkpoints as one analyze-series job (one pass for all of them)
    const series = engineSweep && runsAsSeries({ recipeYaml: built.yaml, ctIndex, checkpoints: checkpoints.map((c) => c!.path) });
    jobCount += series ? 1 : checkpoints.length * points;
    requests.push({
      type: input.type,
      recipeYaml: built.yaml,
      recipeDir,
      checkpoints: checkpoints.map((c) => c!.path),
      ctIndex,
      methods: [method],
      ...(densities ? { densities } : {}),
      experimentId: s.experimentId,
      labelPrefix: `${input.type}${experimentName ? ` ${experimentName}` : ""}`.slice(0, 100),
    });
  }
  if (issues.length > 0) return failed(issues);
  if (jobCount > 5000) return failed([{ path: "", line: null, message: `this sweep makes ${jobCount} jobs, over the limit of 5000; tick fewer checkpoints, methods or densities` }]);
  return { ok: true, issues: [], requests, jobCount };
}
