// The builder with per-layer parameters and slices: every gradient, filter and slice form
// survives settings → YAML preview → pasted YAML → settings, and the layer-swap helper's
// slices are what a merge job accepts.
import { NEWER_METHOD_DEFAULTS } from "../../../server/engine/types";
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { layerSwapSlices, layerStrip } from "../../../components/builder/layer-swap";
import { parsePastedYaml } from "../../../server/services/builder/parse-yaml";
import { previewRecipe } from "../../../server/services/builder/preview";
import type { BuilderSettings } from "../../../server/services/builder/schemas";
import { registerFolder, updateModel } from "../../../server/services/models/registry";
import type { ModelSummary } from "../../../server/services/models/schemas";
import { freshModelEnv, tinyFamily } from "../models/helpers";

const env = freshModelEnv("ms-builder-layers-");
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

const entry = (name: string, over: Partial<BuilderSettings["models"][number]> = {}) => ({ modelId: m[name]!.id, weight: 1, density: 1, gamma: 0.01, epsilon: 0.15, favored: false, ...over });

function settings(method: BuilderSettings["method"], over: Partial<BuilderSettings> = {}): BuilderSettings {
  return {
    experimentId: null,
    method,
    baseModelId: m.base!.id,
    models: [entry("sft"), entry("ct-4B")],
    lambda: 1,
    normalize: method === "ties",
    consensus: "sum",
    slack: 0.04,
    slackScope: "model",
    t: 0.5,
    seed: 0,
    rescale: true,
    randomStream: "counter",
    tieOrder: "mergekit",
    ...NEWER_METHOD_DEFAULTS,
    tokenizerSource: null,
    keepIfNoOutliers: false,
    filterWise: false,
    dtype: null,
    ...over,
  };
}

const FORMS: Record<string, () => BuilderSettings> = {
  "ties with a filtered weight, a density gradient and a lambda gradient": () =>
    settings("ties", {
      models: [
        entry("sft", { weight: 0.7, density: 0.2, parameters: { weight: [{ filter: "self_attn", value: [0, 0.5, 1] }, { filter: null, value: 0.7 }], density: [0.2, 0.5, 0.8] } }),
        entry("ct-4B", { density: 0.9, parameters: { density: [{ filter: "layernorm", value: 1 }, { filter: null, value: [0.9, 0.3] }] } }),
      ],
      lambda: 1,
      parameters: { lambda: [1, 0.8] },
    }),
  "a top-level density gradient with one model's own value": () =>
    settings("ties", { models: [entry("sft", { density: 0.2 }), entry("ct-4B", { density: 0.5, parameters: { density: 0.5 } })], parameters: { density: [0.2, 1] } }),
  "slerp t conditions": () =>
    settings("slerp", { models: [entry("ct-4B")], t: 0.5, parameters: { t: [{ filter: "self_attn", value: [0, 1] }, { filter: "mlp", value: [1, 0] }, { filter: null, value: 0.5 }] } }),
  "a ties slice per layer range with slice-level lambda": () =>
    settings("ties", {
      models: [entry("sft", { density: 0.3 }), entry("ct-4B", { weight: 0.5, density: 0.5 })],
      slices: [
        {
          sources: [
            { modelId: m.base!.id, layerRange: [0, 1], parameters: {} },
            { modelId: m.sft!.id, layerRange: [0, 1], parameters: { density: [0.3, 0.6] } },
            { modelId: m["ct-4B"]!.id, layerRange: [0, 1], parameters: { weight: 0.5, density: 0.5 } },
          ],
          parameters: {},
        },
        {
          sources: [
            { modelId: m.base!.id, layerRange: [1, 2], parameters: {} },
            { modelId: m.sft!.id, layerRange: [1, 2], parameters: { density: 0.4 } },
            { modelId: m["ct-4B"]!.id, layerRange: [1, 2], parameters: { weight: [1, 0], density: 0.9 } },
          ],
          parameters: { lambda: 0.8 },
        },
      ],
    }),
  "a passthrough layer swap": () =>
    settings("passthrough", {
      baseModelId: null,
      normalize: false,
      models: [entry("ct-4B"), entry("sft")],
      slices: layerSwapSlices({ languageModelId: m["ct-4B"]!.id, taskModelId: m.sft!.id, layers: 2, bottom: 1, top: 0, transition: 0 }).slices,
    }),
};

describe("builder round trips of per-layer parameters and slices", () => {
  for (const [name, make] of Object.entries(FORMS)) {
    it(`should keep ${name} through the YAML`, async () => {
      const s = make();
      const p = await previewRecipe(s);
      assert.equal(p.ok, true, JSON.stringify(p.issues));
      const back = await parsePastedYaml(p.yaml);
      assert.equal(back.ok, true, JSON.stringify(back.issues));
      assert.deepEqual(back.settings, s);
    });
  }

  it("should write gradients and filters in mergekit's YAML form", async () => {
    const y = parse((await previewRecipe(FORMS["ties with a filtered weight, a density gradient and a lambda gradient"]!())).yaml);
    assert.deepEqual(y.models[0].parameters.weight, [{ filter: "self_attn", value: [0, 0.5, 1] }, { value: 0.7 }]);
    assert.deepEqual(y.models[0].parameters.density, [0.2, 0.5, 0.8]);
    assert.deepEqual(y.parameters.lambda, [1, 0.8]);
  });

  it("should report unregistered slice models at their YAML path", async () => {
    const r = await parsePastedYaml(`merge_method: passthrough\nslices:\n  - sources:\n      - {model: ${m.sft!.path}, layer_range: [0, 1]}\n  - sources:\n      - {model: /nowhere/x, layer_range: [1, 2]}\n`);
    assert.equal(r.ok, false);
    assert.deepEqual(r.issues.map((i) => i.path), ["slices[1].sources[0].model"]);
  });
});

describe("layer swap helper", () => {
  const lm = "lm";
  const task = "task";
  it("should take bottom and top layers from the language model and the middle from the task model", () => {
    const { method, slices } = layerSwapSlices({ languageModelId: lm, taskModelId: task, layers: 22, bottom: 5, top: 3, transition: 0 });
    assert.equal(method, "passthrough");
    assert.deepEqual(
      slices.map((s) => s.sources.map((x) => [x.modelId, ...x.layerRange])),
      [[[lm, 0, 5]], [[task, 5, 19]], [[lm, 19, 22]]],
    );
    assert.deepEqual(layerStrip(slices).map((l) => l.from).join(""), "LLLLLTTTTTTTTTTTTTTLLL".replace(/L/g, "lm").replace(/T/g, "task"));
  });

  it("should blend a transition zone with per-layer linear weights", () => {
    const { method, slices } = layerSwapSlices({ languageModelId: lm, taskModelId: task, layers: 10, bottom: 2, top: 2, transition: 1 });
    assert.equal(method, "linear");
    const strip = layerStrip(slices);
    assert.equal(strip.length, 10);
    assert.deepEqual(strip.map((l) => l.from), [lm, lm, "blend", task, task, task, task, "blend", lm, lm]);
    // the blended layers weigh both models 0.5 each; the pure ones are 1 / 0 copies
    const blend = slices.find((s) => s.sources[0]!.layerRange[0] === 2)!;
    assert.deepEqual(blend.sources.map((x) => x.parameters.weight), [0.5, 0.5]);
  });

  it("should refuse zones that do not fit the layers", () => {
    assert.throws(() => layerSwapSlices({ languageModelId: lm, taskModelId: task, layers: 4, bottom: 2, top: 2, transition: 1 }), /leave no layer for the task model/);
  });
});
