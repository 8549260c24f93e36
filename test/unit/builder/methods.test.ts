// The builder with every engine method: settings → YAML → recipe parser →
// settings round trips, pasted mergekit recipes for the new methods, the
// parser's errors in the preview, per-method normalize defaults and sweeps.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { parseRecipeYaml } from "../../../server/engine/recipe";
import { ELECTION_METHODS, MERGE_METHODS, TRIM_METHODS, WEIGHTED_METHODS } from "../../../server/engine/recipe/types";
import { defaultNormalize, usesConsensus, usesDensity, usesWeight } from "../../../server/services/builder/method-rules";
import { parsePastedYaml } from "../../../server/services/builder/parse-yaml";
import { previewRecipe } from "../../../server/services/builder/preview";
import { builderSettingsSchema, MERGE_METHOD_VALUES, type BuilderMethod, type BuilderSettings } from "../../../server/services/builder/schemas";
import { planSweep } from "../../../server/services/builder/sweep-plan";
import { enqueueJob } from "../../../server/jobs/client";
import { expandSweep } from "../../../server/services/sweeps/sweep";
import { registerFolder, updateModel } from "../../../server/services/models/registry";
import type { ModelSummary } from "../../../server/services/models/schemas";
import { NEWER_METHOD_DEFAULTS } from "../../../server/engine/types";
import { freshModelEnv, tinyFamily } from "../models/helpers";

const env = freshModelEnv("ms-builder-methods-");
const family = path.join(env.root, "family");
after(() => env.cleanup());

let m: Record<string, ModelSummary>;
before(async () => {
  tinyFamily(family, 2);
  const r = await registerFolder({ path: family, role: "CT", language: "nep" });
  m = Object.fromEntries(r.entries.map((e) => [e.name, e.model!]));
  m.base = await updateModel({ id: m.base!.id, role: "BASE" });
  m.sft = await updateModel({ id: m.sft!.id, role: "SFT" });
});

const entry = (name: string, over: Partial<BuilderSettings["models"][number]> = {}) => ({
  modelId: m[name]!.id,
  weight: 1,
  density: 1,
  gamma: 0.01,
  epsilon: 0.15,
  favored: false,
  ...over,
});

/** Settings whose unused parameters sit at the form's defaults, so a round trip must return them unchanged. */
function settings(method: BuilderMethod, over: Partial<BuilderSettings> = {}): BuilderSettings {
  return {
    experimentId: null,
    method,
    baseModelId: method === "linear" ? null : m.base!.id,
    models: [entry("sft"), entry("ct-4B")],
    lambda: 1,
    normalize: defaultNormalize(method),
    consensus: "sum",
    slack: 0.04,
    slackScope: "model",
    t: 0.5,
    seed: 0,
    rescale: true,
    randomStream: "counter",
    tieOrder: "mergekit",
    keepIfNoOutliers: false,
    filterWise: false,
    ...NEWER_METHOD_DEFAULTS,
    dtype: null,
    tokenizerSource: null,
    ...over,
  };
}

const CASES: Record<BuilderMethod, () => BuilderSettings> = {
  linear: () => settings("linear", { models: [entry("sft", { weight: 0.6 }), entry("ct-4B", { weight: 0.4 })], normalize: false }),
  task_arithmetic: () => settings("task_arithmetic", { models: [entry("sft", { weight: 0.5 }), entry("ct-4B", { weight: -0.25 })], lambda: 0.8 }),
  ties: () => settings("ties", { models: [entry("sft", { density: 0.2 }), entry("ct-4B")], consensus: "count", dtype: "float32", tokenizerSource: "union" }),
  ties_sv: () => settings("ties_sv", { models: [entry("sft", { density: 0.2, favored: true }), entry("ct-4B")], slack: 0.1, slackScope: "tensor" }),
  breadcrumbs: () => settings("breadcrumbs", { models: [entry("sft", { density: 0.4, gamma: 0.05 }), entry("ct-4B", { density: 0.8 })], normalize: true }),
  breadcrumbs_ties: () =>
    settings("breadcrumbs_ties", {
      models: [entry("sft", { density: 0.3, gamma: 0.02 }), entry("ct-4B", { weight: 0.5, density: 0.6, gamma: 0 })],
      keepIfNoOutliers: true,
      consensus: "count",
      lambda: 1.2,
    }),
  dare_linear: () => settings("dare_linear", { models: [entry("sft", { density: 0.5 }), entry("ct-4B", { density: 0.9 })], seed: 42, rescale: false }),
  dare_ties: () => settings("dare_ties", { models: [entry("sft", { density: 0.5 }), entry("ct-4B", { density: 0.7 })], seed: 7 }),
  slerp: () => settings("slerp", { models: [entry("ct-4B")], t: 0.3 }),
  model_stock: () => settings("model_stock", { models: [entry("sft"), entry("ct-2B"), entry("ct-4B")], filterWise: true, dtype: "bfloat16" }),
  passthrough: () => settings("passthrough", { baseModelId: null, models: [entry("ct-4B", { scale: 0.7 })], normalize: false }),
  della: () =>
    settings("della", {
      models: [entry("sft", { density: 0.5, epsilon: 0.1 }), entry("ct-4B", { weight: 0.8, density: 0.4 })],
      lambda: 0.9,
      seed: 42,
      tieOrder: "index",
    }),
  della_linear: () => settings("della_linear", { models: [entry("sft", { density: 0.3, epsilon: 0.2 }), entry("ct-4B")], rescale: false, seed: 3 }),
  sce: () => settings("sce", { models: [entry("sft"), entry("ct-2B"), entry("ct-4B")], selectTopk: 0.3 }),
  nuslerp: () => settings("nuslerp", { models: [entry("sft", { weight: 0.7 }), entry("ct-4B", { weight: 0.3 })], nuslerpFlatten: false, nuslerpRowWise: true }),
  multislerp: () => settings("multislerp", { baseModelId: null, models: [entry("sft", { weight: 1 }), entry("ct-2B", { weight: 2 }), entry("ct-4B", { weight: 3 })], normalizeWeights: false, eps: 1e-6 }),
  karcher: () => settings("karcher", { maxIter: 5, tol: 1e-6, dtype: "float32" }),
  arcee_fusion: () => settings("arcee_fusion", { models: [entry("ct-4B")] }),
  nearswap: () => settings("nearswap", { models: [entry("ct-4B")], t: 0.002 }),
};

describe("merge builder methods", () => {
  it("should offer exactly the engine's methods, with the recipe layer's parameter rules", () => {
    assert.deepEqual([...MERGE_METHOD_VALUES], [...MERGE_METHODS]);
    for (const method of MERGE_METHOD_VALUES) {
      assert.equal(usesDensity(method), TRIM_METHODS.includes(method), method);
      assert.equal(usesConsensus(method), ELECTION_METHODS.includes(method), method);
      assert.equal(usesWeight(method), WEIGHTED_METHODS.includes(method), method);
    }
  });

  it("should default normalize per method as the recipe parser does", () => {
    for (const method of MERGE_METHOD_VALUES) {
      const one = method === "slerp" || method === "passthrough" || method === "arcee_fusion" || method === "nearswap";
      const models = one ? "  - model: ./b\n" : "  - model: ./b\n  - model: ./c\n";
      const extra = method === "slerp" || method === "nearswap" ? "parameters:\n  t: 0.5\n" : method === "ties_sv" ? "parameters:\n  slack: 0.04\n" : "";
      const yaml = `merge_method: ${method}\n${method === "linear" ? "" : "base_model: ./a\n"}models:\n${method === "ties_sv" ? models.replace("./b\n", "./b\n    parameters: { favored: true }\n") : models}${extra}`;
      assert.equal(parseRecipeYaml(yaml, { recipeDir: "/r" }).normalize, defaultNormalize(method), method);
    }
    assert.deepEqual(MERGE_METHOD_VALUES.filter(defaultNormalize), ["linear", "ties", "ties_sv", "della"]);
  });

  for (const method of MERGE_METHOD_VALUES) {
    it(`should round-trip ${method}: settings → YAML → pasted YAML → the same settings`, async () => {
      const s = CASES[method]();
      const p = await previewRecipe(s);
      assert.equal(p.ok, true, JSON.stringify(p.issues));
      assert.deepEqual(p.notes, [], "every key written is one the method uses");
      assert.equal(parse(p.yaml).merge_method, method);
      const back = await parsePastedYaml(p.yaml);
      assert.equal(back.ok, true, JSON.stringify(back.issues));
      assert.deepEqual(back.settings, s);
      // the preview is exactly what a merge job accepts
      const job = await enqueueJob({ type: "merge", payload: { recipeYaml: p.yaml, recipeDir: p.recipeDir, label: p.label } });
      assert.ok(job.job.id);
    });
  }

  it("should write each method's own keys in the YAML preview", async () => {
    const dare = parse((await previewRecipe(CASES.dare_ties())).yaml);
    assert.deepEqual(dare.parameters, { normalize: false, lambda: 1, rescale: true, seed: 7 });
    assert.deepEqual(dare.models[0].parameters, { weight: 1, density: 0.5 });
    const crumbs = parse((await previewRecipe(CASES.breadcrumbs_ties())).yaml);
    assert.deepEqual(crumbs.models[1].parameters, { weight: 0.5, density: 0.6, gamma: 0 });
    assert.equal(crumbs.parameters.keep_if_no_outliers, true);
    const slerp = await previewRecipe(settings("slerp", { models: [entry("ct-4B", { weight: 3, density: 0.2 })], t: 0.25 }));
    assert.deepEqual(parse(slerp.yaml), { merge_method: "slerp", base_model: m.base!.path, models: [{ model: m["ct-4B"]!.path }], parameters: { t: 0.25 } });
    assert.equal(slerp.label, "SLERP ct-4B t=0.25");
    const stock = parse((await previewRecipe(CASES.model_stock())).yaml);
    assert.deepEqual(stock.parameters, { filter_wise: true });
    const della = parse((await previewRecipe(CASES.della())).yaml);
    assert.deepEqual(della.parameters, { normalize: true, lambda: 0.9, rescale: true, seed: 42, tie_order: "index" });
    assert.deepEqual(della.models[0].parameters, { weight: 1, density: 0.5, epsilon: 0.1 });
    const mkDare = parse((await previewRecipe(settings("dare_ties", { models: [entry("sft", { density: 0.5 })], randomStream: "mergekit" }))).yaml);
    assert.equal(mkDare.parameters.random, "mergekit");
    assert.equal(mkDare.parameters.tie_order, undefined, "DARE ranks nothing: no tie_order");
    assert.equal((await previewRecipe(CASES.dare_linear())).label, "DARE ct-4B d=0.5/0.9");
  });

  it("should show the recipe parser's errors for the new methods", async () => {
    const slerp = await previewRecipe(settings("slerp"));
    assert.equal(slerp.ok, false);
    assert.deepEqual(
      slerp.issues.map((i) => [i.path, i.message]),
      [["models", "slerp interpolates base_model and exactly one other model; found 2 besides the base"]],
    );
    assert.match(slerp.yaml, /t: 0.5/, "the YAML as built is still shown");
    const stock = await previewRecipe(settings("model_stock", { models: [entry("ct-4B")] }));
    assert.match(stock.issues[0]!.message, /model_stock needs at least two models besides base_model; found 1/);
    const noBase = await previewRecipe(settings("dare_ties", { baseModelId: null }));
    assert.ok(noBase.issues.some((i) => i.path === "base_model" && /required for merge_method `dare_ties`/.test(i.message)));
  });

  it("should write the newer methods' mergekit keys and nothing else", async () => {
    const yaml = async (method: BuilderMethod) => parse((await previewRecipe(CASES[method]())).yaml);
    assert.deepEqual((await yaml("sce")).parameters, { select_topk: 0.3 });
    assert.deepEqual((await yaml("sce")).models[0], { model: m.sft!.path }, "sce takes no per-model weights");
    assert.deepEqual((await yaml("nuslerp")).parameters, { nuslerp_flatten: false, nuslerp_row_wise: true });
    assert.deepEqual((await yaml("nuslerp")).models.map((x: { parameters: unknown }) => x.parameters), [{ weight: 0.7 }, { weight: 0.3 }]);
    const ms = await yaml("multislerp");
    assert.deepEqual(ms.parameters, { normalize_weights: false, eps: 1e-6 });
    assert.equal(ms.base_model, undefined, "multislerp without a base model");
    assert.deepEqual((await yaml("karcher")).parameters, { max_iter: 5, tol: 1e-6 });
    assert.equal((await yaml("arcee_fusion")).parameters, undefined);
    assert.deepEqual((await yaml("nearswap")).parameters, { t: 0.002 });
    assert.equal((await previewRecipe(CASES.nearswap())).label, "NearSwap ct-4B t=0.002");
    assert.equal((await previewRecipe(CASES.sce())).label, "SCE ct-4B topk=0.3");
  });

  it("should show mergekit's model-count and base rules for the newer methods", async () => {
    const two = await previewRecipe(settings("nearswap", { t: 0.01 }));
    assert.match(two.issues[0]!.message, /nearswap merges base_model with exactly one other model; found 2/);
    const three = await previewRecipe(settings("nuslerp", { models: [entry("sft"), entry("ct-2B"), entry("ct-4B")] }));
    assert.match(three.issues[0]!.message, /nuslerp merges exactly two models besides base_model; found 3/);
    const noBase = await previewRecipe(settings("sce", { baseModelId: null }));
    assert.ok(noBase.issues.some((i) => i.path === "base_model" && /required for merge_method `sce`/.test(i.message)));
    const optional = await previewRecipe(settings("nuslerp", { baseModelId: null }));
    assert.equal(optional.ok, true, "nuslerp runs without a base model");
  });

  it("should reject out-of-range new parameters in the settings", () => {
    const bad = (over: Partial<BuilderSettings>) => builderSettingsSchema.safeParse({ ...CASES.dare_ties(), ...over }).success;
    assert.equal(bad({ t: 1.5 }), false);
    assert.equal(bad({ seed: 1.5 }), false);
    assert.equal(bad({ seed: -1 }), false);
    assert.equal(bad({ models: [entry("sft", { gamma: 2 })] }), false);
    assert.equal(bad({ selectTopk: 1.2 }), false);
    assert.equal(bad({ maxIter: 2.5 }), false);
    assert.equal(bad({ tol: -1 }), false);
    // settings from before the new methods (no gamma, t, seed…) get the defaults
    const { t: _t, seed: _s, rescale: _r, keepIfNoOutliers: _k, filterWise: _f, selectTopk: _st, nuslerpFlatten: _nf, nuslerpRowWise: _nr, normalizeWeights: _nw, eps: _e, maxIter: _mi, tol: _tl, ...old } = CASES.ties();
    const parsed = builderSettingsSchema.parse({ ...old, models: old.models.map(({ gamma: _g, ...x }) => x) });
    assert.deepEqual(parsed, CASES.ties());
  });

  it("should fill the form from pasted mergekit recipes for each new method", async () => {
    const head = (method: string) => [`merge_method: ${method}`, `base_model: ${m.base!.path}`, "models:"];
    const crumbs = await parsePastedYaml(
      [
        ...head("breadcrumbs_ties"),
        `  - model: ${m.sft!.path}`,
        "    parameters: { weight: 1.0, density: 0.4, gamma: 0.05 }",
        `  - model: ${m["ct-2B"]!.path}`,
        "    parameters: { weight: 0.5, density: 0.6 }",
        "parameters:",
        "  gamma: 0.02",
        "  keep_if_no_outliers: true",
        "",
      ].join("\n"),
    );
    assert.equal(crumbs.ok, true, JSON.stringify(crumbs.issues));
    assert.deepEqual(crumbs.settings!.models.map((x) => [x.density, x.gamma]), [[0.4, 0.05], [0.6, 0.02]]);
    assert.equal(crumbs.settings!.keepIfNoOutliers, true);
    assert.equal(crumbs.settings!.normalize, false, "mergekit's default for breadcrumbs_ties");

    const dare = await parsePastedYaml([...head("dare_linear"), `  - model: ${m.sft!.path}`, "    parameters: { weight: 1, density: 0.3 }", "seed: 1234", ""].join("\n"));
    assert.equal(dare.ok, true, JSON.stringify(dare.issues));
    assert.deepEqual([dare.settings!.seed, dare.settings!.rescale], [1234, true]);

    // mergekit's slerp examples list the base model among the models
    const slerp = await parsePastedYaml([...head("slerp"), `  - model: ${m.base!.path}`, `  - model: ${m["ct-4B"]!.path}`, "parameters:", "  t: 0.7", ""].join("\n"));
    assert.equal(slerp.ok, true, JSON.stringify(slerp.issues));
    assert.deepEqual(slerp.settings!.models.map((x) => x.modelId), [m["ct-4B"]!.id]);
    assert.equal(slerp.settings!.t, 0.7);

    const stock = await parsePastedYaml([...head("model_stock"), `  - model: ${m.sft!.path}`, `  - model: ${m["ct-4B"]!.path}`, "parameters: { filter_wise: true }", ""].join("\n"));
    assert.equal(stock.ok, true, JSON.stringify(stock.issues));
    assert.equal(stock.settings!.filterWise, true);

    const nuslerp = await parsePastedYaml(
      ["merge_method: nuslerp", "models:", `  - model: ${m.sft!.path}`, "    parameters: { weight: 0.25 }", `  - model: ${m["ct-4B"]!.path}`, "    parameters: { weight: 0.75 }", "parameters: { nuslerp_flatten: false }", ""].join("\n"),
    );
    assert.equal(nuslerp.ok, true, JSON.stringify(nuslerp.issues));
    assert.deepEqual([nuslerp.settings!.baseModelId, nuslerp.settings!.nuslerpFlatten, nuslerp.settings!.nuslerpRowWise], [null, false, false]);
    const karcher = await parsePastedYaml([...head("karcher"), `  - model: ${m.sft!.path}`, `  - model: ${m["ct-4B"]!.path}`, "parameters: { max_iter: 3, tol: 1.0e-4 }", ""].join("\n"));
    assert.equal(karcher.ok, true, JSON.stringify(karcher.issues));
    assert.deepEqual([karcher.settings!.maxIter, karcher.settings!.tol], [3, 1e-4]);
    const near = await parsePastedYaml([...head("nearswap"), `  - model: ${m["ct-4B"]!.path}`, "parameters: { t: 0.0005 }", ""].join("\n"));
    assert.equal(near.ok, true, JSON.stringify(near.issues));
    assert.equal(near.settings!.t, 0.0005);

    const twoForSlerp = await parsePastedYaml([...head("slerp"), `  - model: ${m.sft!.path}`, `  - model: ${m["ct-4B"]!.path}`, "parameters: { t: 0.5 }", ""].join("\n"));
    assert.equal(twoForSlerp.ok, false);
    assert.match(twoForSlerp.issues[0]!.message, /exactly one other model; found 2/);
  });

  it("should plan a sweep over the new methods with their densities and normalize defaults", async () => {
    const plan = await planSweep({
      settings: CASES.ties(),
      type: "analyze",
      checkpointIds: [m["ct-2B"]!.id, m["ct-4B"]!.id],
      methods: ["breadcrumbs_ties", "dare_ties", "model_stock"],
      densities: [[0.2, 0.4, 1], [1]],
    });
    assert.equal(plan.ok, true, JSON.stringify(plan.issues));
    assert.equal(plan.jobCount, 2 * 3 + 2 * 3 + 2);
    const byMethod = Object.fromEntries(plan.requests.map((r) => [r.methods[0], r]));
    assert.equal(byMethod.model_stock!.densities, undefined);
    assert.deepEqual(byMethod.dare_ties!.densities, [[0.2, 0.4, 1], [1]]);
    // ties' normalize default (true) was not changed, so each method gets its own default
    assert.equal(parse(byMethod.breadcrumbs_ties!.recipeYaml).parameters.normalize, false);
    assert.equal(parse(byMethod.breadcrumbs_ties!.recipeYaml).parameters.consensus, "count");
    let total = 0;
    for (const r of plan.requests) {
      for (const x of expandSweep(r)) {
        total++;
        const job = await enqueueJob({ type: r.type, payload: { recipeYaml: x.yaml, recipeDir: r.recipeDir, label: x.label } });
        assert.ok(job.job.id);
      }
    }
    assert.equal(total, plan.jobCount);

    const slerp = await planSweep({ settings: CASES.ties(), type: "merge", checkpointIds: [m["ct-4B"]!.id], methods: ["slerp"], densities: [[1], [1]] });
    assert.equal(slerp.ok, false);
    assert.match(slerp.issues[0]!.message, /^SLERP: slerp interpolates base_model and exactly one other model; found 2/);
  });
});
