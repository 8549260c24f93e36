import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_STATE,
  fromSettings,
  parseBuilderState,
  serializeBuilderState,
  switchMethod,
  toSettings,
  type BuilderState,
} from "../../../components/builder/url-state";

describe("merge builder URL state", () => {
  it("should round-trip every setting through the search params", () => {
    const state: BuilderState = {
      exp: "exp1",
      method: "ties_sv",
      base: "b",
      models: [
        { id: "s", weight: 0.7, density: 0.2, gamma: 0.05, epsilon: 0.15, favored: true },
        { id: "c", weight: 0.3, density: 1, gamma: 0, epsilon: 0.15, favored: false },
      ],
      lambda: 1.5,
      normalize: false,
      consensus: "count",
      slack: 0.1,
      scope: "tensor",
      t: 0.3,
      seed: 42,
      rescale: false,
      randomStream: "mergekit",
      tieOrder: "index",
      keepIfNoOutliers: true,
      filterWise: true,
      selectTopk: 0.3,
      nuslerpFlatten: false,
      nuslerpRowWise: true,
      normalizeWeights: false,
      eps: 1e-6,
      maxIter: 4,
      tol: 0.001,
      dtype: "bfloat16",
      layers: 24,
      tok: "union",
      sweepType: "analyze",
      sweepCts: ["c", "c2"],
      sweepMethods: ["ties", "ties_sv", "dare_ties", "model_stock"],
      sweepDensities: [[0.01, 0.2, 0.4, 0.6, 0.8, 1], [1]],
    };
    const params = serializeBuilderState(state);
    assert.equal(params.get("d"), "0.2,1");
    assert.equal(params.get("g"), "0.05,0");
    assert.equal(params.get("tie"), "index");
    assert.equal(params.get("rnd"), "mergekit");
    assert.equal(params.get("sd"), "0.01,0.2,0.4,0.6,0.8,1;1");
    assert.deepEqual(parseBuilderState(new URLSearchParams(params.toString())), state);
  });

  it("should round-trip the new methods' settings", () => {
    for (const method of ["breadcrumbs", "breadcrumbs_ties", "dare_linear", "dare_ties", "slerp", "model_stock", "della", "della_linear"] as const) {
      const state: BuilderState = {
        ...DEFAULT_STATE,
        method,
        base: "b",
        models: [{ id: "s", weight: 1, density: 0.4, gamma: 0.02, epsilon: 0.1, favored: false }],
        normalize: true,
        t: 0.25,
        seed: 9,
        keepIfNoOutliers: true,
        filterWise: true,
      };
      const params = serializeBuilderState(state);
      if (method !== "della") assert.equal(params.get("norm"), "1", `${method}: normalize on is not its default`);
      assert.equal(params.get("e"), "0.1");
      assert.deepEqual(parseBuilderState(new URLSearchParams(params.toString())), state, method);
    }
  });

  it("should round-trip sce, nuslerp, multislerp, karcher, arcee_fusion and nearswap settings", () => {
    const cases: Partial<BuilderState>[] = [
      { method: "sce", selectTopk: 0.25 },
      { method: "nuslerp", nuslerpFlatten: false, nuslerpRowWise: true },
      { method: "multislerp", normalizeWeights: false, eps: 1e-5 },
      { method: "karcher", maxIter: 20, tol: 1e-4 },
      { method: "arcee_fusion" },
      { method: "nearswap", t: 0.001 },
    ];
    for (const over of cases) {
      const state: BuilderState = { ...DEFAULT_STATE, base: "b", models: [{ id: "s", weight: 0.5, density: 1, gamma: 0.01, epsilon: 0.15, favored: false }], ...over };
      assert.deepEqual(parseBuilderState(new URLSearchParams(serializeBuilderState(state).toString())), state, over.method);
    }
    assert.equal(serializeBuilderState({ ...DEFAULT_STATE, method: "karcher", normalize: false }).toString(), "method=karcher", "mergekit's defaults stay out of the URL");
  });

  it("should suggest nearswap's t when switching from slerp's default, and give slerp its default back", () => {
    const near = switchMethod({ ...DEFAULT_STATE, method: "slerp" }, "nearswap");
    assert.equal(near.t, 0.001);
    assert.equal(switchMethod(near, "slerp").t, 0.5);
    assert.equal(switchMethod({ ...DEFAULT_STATE, method: "slerp", t: 0.3 }, "nearswap").t, 0.3, "a chosen t is kept");
  });

  it("should keep the URL short by leaving defaults out", () => {
    assert.equal(serializeBuilderState(DEFAULT_STATE).toString(), "method=ties");
    assert.deepEqual(parseBuilderState(new URLSearchParams("")), DEFAULT_STATE);
    assert.equal(serializeBuilderState({ ...DEFAULT_STATE, method: "dare_ties", normalize: false }).toString(), "method=dare_ties");
    const m = serializeBuilderState({ ...DEFAULT_STATE, models: [{ id: "a", weight: 1, density: 1, gamma: 0.01, epsilon: 0.15, favored: false }] });
    assert.equal(m.get("g"), null, "default gammas are left out");
  });

  it("should default normalize per method (mergekit: on for linear, ties, ties_sv)", () => {
    const norm = (q: string) => parseBuilderState(new URLSearchParams(q)).normalize;
    assert.equal(norm("method=linear"), true);
    assert.equal(norm("method=ties_sv"), true);
    assert.equal(norm("method=task_arithmetic"), false);
    assert.equal(norm("method=breadcrumbs_ties"), false);
    assert.equal(norm("method=dare_linear"), false);
    assert.equal(norm("method=dare_linear&norm=1"), true);
    assert.equal(norm("method=ties&norm=0"), false);
  });

  it("should fall back to defaults for malformed values", () => {
    const s = parseBuilderState(
      new URLSearchParams("method=ram&m=a,b&w=x,2&d=7,0.5&g=-1,0.2&slack=3&dtype=int8&cons=max&sd=a;0.5,9&t=2&seed=1.5&rescale=maybe&kino=yes&fw=2"),
    );
    assert.equal(s.method, "ties");
    assert.deepEqual(s.models.map((m) => [m.weight, m.density, m.gamma]), [[1, 1, 0.01], [2, 0.5, 0.2]]);
    assert.equal(s.slack, 0.04);
    assert.equal(s.dtype, null);
    assert.equal(s.consensus, "sum");
    assert.deepEqual(s.sweepDensities, [[], [0.5]]);
    assert.deepEqual([s.t, s.seed, s.rescale, s.keepIfNoOutliers, s.filterWise], [0.5, 0, true, false, false]);
    assert.equal(parseBuilderState(new URLSearchParams("seed=-3")).seed, 0);
  });

  it("should switch methods keeping a changed normalize and favoring a model for TIES-SV", () => {
    const ties: BuilderState = { ...DEFAULT_STATE, models: [{ id: "s", weight: 1, density: 1, gamma: 0.01, epsilon: 0.15, favored: false }] };
    assert.equal(switchMethod(ties, "dare_ties").normalize, false, "ties' default follows to dare_ties' default");
    assert.equal(switchMethod(switchMethod(ties, "dare_ties"), "linear").normalize, true);
    assert.equal(switchMethod({ ...ties, normalize: false }, "ties_sv").normalize, false, "a changed value is kept");
    assert.equal(switchMethod(ties, "ties_sv").models[0]!.favored, true);
    assert.equal(switchMethod(ties, "slerp").models[0]!.favored, false);
  });

  it("should turn state into preview settings and back", () => {
    assert.equal(toSettings(DEFAULT_STATE), null, "no models: nothing to preview");
    const state = parseBuilderState(new URLSearchParams("exp=e&method=breadcrumbs_ties&base=b&m=s,c&w=1,1&d=0.2,1&g=0.05,0.01&kino=1&sct=c"));
    const settings = toSettings(state)!;
    assert.deepEqual(settings.models[0], { modelId: "s", weight: 1, density: 0.2, gamma: 0.05, epsilon: 0.15, favored: false });
    assert.equal(settings.keepIfNoOutliers, true);
    const back = fromSettings(settings, state);
    assert.deepEqual(back.models, state.models);
    assert.equal(back.keepIfNoOutliers, true);
    assert.equal(back.sweepCts, null, "a loaded recipe starts a new sweep");
  });
});

describe("builder URL state with per-layer values and slices", () => {
  it("should keep gradients, filters, scales and slices in a copied link", () => {
    const state: BuilderState = {
      ...DEFAULT_STATE,
      method: "passthrough",
      models: [
        { id: "lm", weight: 1, density: 1, gamma: 0.01, epsilon: 0.15, favored: false, scale: 0.5, parameters: { scale: [{ filter: "o_proj", value: 0.5 }, { filter: null, value: 1 }] } },
        { id: "task", weight: 1, density: 1, gamma: 0.01, epsilon: 0.15, favored: false },
      ],
      parameters: { weight: [0, 1] },
      slices: [
        { sources: [{ modelId: "lm", layerRange: [0, 2], parameters: {} }], parameters: {} },
        { sources: [{ modelId: "task", layerRange: [2, 4], parameters: { scale: 0.5 } }], parameters: { lambda: [1, 0.5] } },
      ],
    };
    const back = parseBuilderState(new URLSearchParams(serializeBuilderState(state).toString()));
    assert.deepEqual(back, state);
    assert.deepEqual(fromSettings(toSettings(back)!, DEFAULT_STATE), { ...back, sweepCts: null, sweepMethods: null, sweepDensities: null });
  });

  it("should ignore a malformed `lay` parameter instead of breaking the form", () => {
    const p = new URLSearchParams("method=ties&m=a&lay=%7Bnot-json");
    assert.equal(parseBuilderState(p).slices, undefined);
    const bad = new URLSearchParams(`method=ties&m=a&lay=${encodeURIComponent(JSON.stringify({ s: [{ sources: [] }] }))}`);
    assert.equal(parseBuilderState(bad).slices, undefined);
  });
});
