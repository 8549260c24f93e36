import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { expandSweep } from "../../../server/services/sweeps/sweep";
import { enqueueJob } from "../../../server/jobs/client";
import { createExperiment } from "../../../server/services/experiments/store";
import { parsePastedYaml } from "../../../server/services/builder/parse-yaml";
import { previewRecipe } from "../../../server/services/builder/preview";
import type { BuilderSettings } from "../../../server/services/builder/schemas";
import { planSweep } from "../../../server/services/builder/sweep-plan";
import { registerFolder } from "../../../server/services/models/registry";
import type { ModelSummary } from "../../../server/services/models/schemas";
import { NEWER_METHOD_DEFAULTS } from "../../../server/engine/types";
import { freshModelEnv, tinyFamily } from "../models/helpers";

const env = freshModelEnv("ms-builder-");
const family = path.join(env.root, "family");
after(() => env.cleanup());

let m: Record<string, ModelSummary>;
let experimentId: string;
before(async () => {
  tinyFamily(family, 2);
  const r = await registerFolder({ path: family, role: "CT", language: "nep" });
  m = Object.fromEntries(r.entries.map((e) => [e.name, e.model!]));
  // the folder registers everything as CT; fix base and SFT like a user would
  const { updateModel } = await import("../../../server/services/models/registry");
  m.base = await updateModel({ id: m.base!.id, role: "BASE" });
  m.sft = await updateModel({ id: m.sft!.id, role: "SFT" });
  const e = await createExperiment({ name: "ne", language: "nep", baseModelId: m.base.id, sftModelId: m.sft.id, ctModelIds: [m["ct-2B"]!.id, m["ct-4B"]!.id] });
  experimentId = e.id;
});

/** The form's defaults for the parameters only some methods use. */
const UNUSED = { t: 0.5, seed: 0, rescale: true, randomStream: "counter", tieOrder: "mergekit", keepIfNoOutliers: false, filterWise: false, ...NEWER_METHOD_DEFAULTS } as const;

function settings(over: Partial<BuilderSettings> = {}): BuilderSettings {
  return {
    experimentId,
    method: "ties_sv",
    baseModelId: m.base!.id,
    models: [
      { modelId: m.sft!.id, weight: 1, density: 0.2, gamma: 0.01, epsilon: 0.15, favored: true },
      { modelId: m["ct-4B"]!.id, weight: 1, density: 1, gamma: 0.01, epsilon: 0.15, favored: false },
    ],
    lambda: 1,
    normalize: true,
    consensus: "sum",
    slack: 0.04,
    slackScope: "model",
    ...UNUSED,
    dtype: null,
    tokenizerSource: null,
    ...over,
  };
}

describe("merge builder", () => {
  it("should preview a TIES-SV recipe as mergekit YAML with every value written out", async () => {
    const p = await previewRecipe(settings());
    assert.equal(p.ok, true, JSON.stringify(p.issues));
    const doc = parse(p.yaml);
    assert.equal(doc.merge_method, "ties_sv");
    assert.equal(doc.base_model, m.base!.path);
    assert.deepEqual(doc.models[0], { model: m.sft!.path, parameters: { weight: 1, density: 0.2, favored: true } });
    assert.deepEqual(doc.parameters, { normalize: true, lambda: 1, slack: 0.04, slack_scope: "model" });
    assert.equal(p.label, "TIES-SV ct-4B d=0.2/1 slack=0.04");
    assert.equal(p.fileName, "ties-sv-ct-4b-d-0.2-1-slack-0.04.yml");
    // the preview is exactly what a merge job accepts
    const job = await enqueueJob({ type: "merge", payload: { recipeYaml: p.yaml, recipeDir: p.recipeDir, label: p.label }, experimentId });
    assert.equal(job.created, true);
  });

  it("should build a linear (WAVG) recipe without base model or densities", async () => {
    const p = await previewRecipe(settings({ method: "linear", models: settings().models.map((x) => ({ ...x, weight: 0.5 })) }));
    assert.equal(p.ok, true, JSON.stringify(p.issues));
    const doc = parse(p.yaml);
    assert.equal(doc.base_model, undefined);
    assert.deepEqual(doc.models[1].parameters, { weight: 0.5 });
    assert.equal(p.label, "WAVG ct-4B");
  });

  it("should return the parser's errors with their YAML paths", async () => {
    const twoFavored = settings({ models: settings().models.map((x) => ({ ...x, favored: true })) });
    const p = await previewRecipe(twoFavored);
    assert.equal(p.ok, false);
    assert.ok(p.issues.some((i) => i.path === "models" && /exactly one model with `favored: true`/.test(i.message)), JSON.stringify(p.issues));
    const noBase = await previewRecipe(settings({ method: "ties", baseModelId: null }));
    assert.ok(noBase.issues.some((i) => i.path === "base_model" && /required/.test(i.message)));
    const gone = await previewRecipe(settings({ baseModelId: "deleted-id" }));
    assert.deepEqual(gone.issues.map((i) => i.path), ["base_model"]);
  });

  it("should fill the form from a pasted mergekit YAML and find its experiment", async () => {
    const yaml = [
      "merge_method: ties",
      `base_model: ${m.base!.path}`,
      "models:",
      `  - model: ${m.sft!.path}`,
      "    parameters:",
      "      weight: 0.7",
      "      density: 0.4",
      "  - model: family/ct-2B   # relative to the first model root",
      "    parameters:",
      "      weight: 0.3",
      "      density: 0.6",
      "parameters:",
      "  normalize: false",
      "  lambda: 1.5",
      "dtype: bfloat16",
      "",
    ].join("\n");
    const r = await parsePastedYaml(yaml);
    assert.equal(r.ok, true, JSON.stringify(r.issues));
    assert.deepEqual(r.settings, {
      experimentId,
      method: "ties",
      baseModelId: m.base!.id,
      models: [
        { modelId: m.sft!.id, weight: 0.7, density: 0.4, gamma: 0.01, epsilon: 0.15, favored: false },
        { modelId: m["ct-2B"]!.id, weight: 0.3, density: 0.6, gamma: 0.01, epsilon: 0.15, favored: false },
      ],
      lambda: 1.5,
      normalize: false,
      consensus: "sum",
      slack: 0.04,
      slackScope: "model",
      ...UNUSED,
      dtype: "bfloat16",
      tokenizerSource: null,
    });
  });

  it("should refuse, by name, pasted recipe parts the form cannot hold (LoRA, tokenizer models and blocks)", async () => {
    const head = `merge_method: ties\nbase_model: ${m.base!.path}\nmodels:\n  - model: ${m.sft!.path}\n    parameters: {weight: 1, density: 0.5}\n`;
    const lora = await parsePastedYaml(`${head}  - model: ${m.base!.path}+/somewhere/lora\n    parameters: {weight: 1}\n`);
    assert.equal(lora.ok, false);
    assert.match(lora.issues[0]!.message, /does not apply LoRA adapters/);
    const block = await parsePastedYaml(`${head}tokenizer:\n  source: union\n`);
    assert.match(block.issues[0]!.message, /`tokenizer_source: base \| union`; queue a recipe with a tokenizer model or a `tokenizer:` block/);
    const union = await parsePastedYaml(`${head}tokenizer_source: union\n`);
    assert.equal(union.ok, true, JSON.stringify(union.issues));
    assert.equal(union.settings?.tokenizerSource, "union");
  });

  it("should report pasted YAML errors at their path and line", async () => {
    const bad = await parsePastedYaml("merge_method: ties\nbase_model: /x\nmodels:\n  - model: /y\n    parameters:\n      density: 2\n");
    assert.equal(bad.ok, false);
    assert.deepEqual(bad.issues.map((i) => [i.path, i.line]), [["models[0].parameters.density", 6]]);
    const syntax = await parsePastedYaml("merge_method: [ties\n");
    assert.match(syntax.issues[0]!.message, /invalid YAML/);
    const unregistered = await parsePastedYaml(`merge_method: ties\nbase_model: ${m.base!.path}\nmodels:\n  - model: ${m.sft!.path}\n  - model: /elsewhere/ct\n`);
    assert.equal(unregistered.ok, false);
    assert.deepEqual(unregistered.issues.map((i) => [i.path, i.line]), [["models[1].model", 5]]);
    assert.match(unregistered.issues[0]!.message, /not a registered model/);
    const empty = await parsePastedYaml("  ");
    assert.equal(empty.ok, false);
  });

  it("should count a ties analysis over one shared density list as one engine-sweep job per checkpoint", async () => {
    const grid = [0.01, 0.2, 0.4, 0.6, 0.8, 1.0];
    const plan = await planSweep({
      settings: settings(),
      type: "analyze",
      checkpointIds: [m["ct-2B"]!.id, m["ct-4B"]!.id],
      methods: ["ties", "ties_sv"],
      densities: [grid, grid],
    });
    assert.equal(plan.ok, true, JSON.stringify(plan.issues));
    // ties: one analyze-series job for both checkpoints; ties_sv: one analyze job per point
    assert.equal(plan.jobCount, 1 + 2 * 36);
  });

  it("should plan a sweep over checkpoints × methods × densities as jobs.sweep calls", async () => {
    const plan = await planSweep({
      settings: settings(),
      type: "analyze",
      checkpointIds: [m["ct-2B"]!.id, m["ct-4B"]!.id],
      methods: ["ties", "ties_sv", "linear"],
      densities: [[0.01, 0.2, 0.4, 0.6, 0.8, 1.0], [1.0]],
    });
    assert.equal(plan.ok, true, JSON.stringify(plan.issues));
    assert.equal(plan.requests.length, 3);
    assert.equal(plan.jobCount, 2 * 6 + 2 * 6 + 2);
    const linear = plan.requests.find((r) => r.methods[0] === "linear")!;
    assert.equal(linear.densities, undefined);
    assert.equal(linear.ctIndex, 1);
    assert.deepEqual(linear.checkpoints, [m["ct-2B"]!.path, m["ct-4B"]!.path]);
    // every expanded recipe is valid for its method
    let total = 0;
    for (const r of plan.requests) {
      const expanded = expandSweep({ ...r, experimentId });
      total += expanded.length;
      for (const x of expanded) {
        const job = await enqueueJob({ type: r.type, payload: { recipeYaml: x.yaml, recipeDir: r.recipeDir, label: x.label }, experimentId });
        assert.ok(job.job.id);
      }
    }
    assert.equal(total, plan.jobCount);
  });

  it("should refuse a sweep without a CT checkpoint to replace", async () => {
    const plan = await planSweep({
      settings: settings({ models: [{ modelId: m.sft!.id, weight: 1, density: 1, gamma: 0.01, epsilon: 0.15, favored: true }] }),
      type: "merge",
      checkpointIds: [m.base!.id],
      methods: ["ties"],
      densities: [[1]],
    });
    // base is one of the checkpoints, but it is not among the merged models
    assert.equal(plan.ok, false);
    assert.match(plan.issues[0]!.message, /nothing for the sweep to replace/);
  });
});
