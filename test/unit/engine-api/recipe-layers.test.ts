// Gradients, filters, slices and passthrough in recipes: mergekit's value rule (golden README
// "Gradients, filters and slices"), parsing and its errors, and YAML round trips of every form.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { parseRecipeYaml, recipeToYaml, RecipeError, type Recipe } from "@/server/engine/recipe";
import { evaluateSpec, filterMatches, gradientAt } from "@/server/engine/recipe/param-spec";
import { buildMergePlan, needsPlan } from "@/server/engine/plan/build";
import { goldenCaseIds } from "../engine/golden-fixtures";
import { caseDir } from "./helpers";

const parse = (text: string, dir = "/r") => parseRecipeYaml(text, { recipeDir: dir });
function parseError(text: string): RecipeError {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof RecipeError) return err;
    throw err;
  }
  assert.fail(`recipe parsed but should not have:\n${text}`);
}

describe("mergekit's gradient and filter rule", () => {
  it("should interpolate a gradient over 4 layers as the README's examples", () => {
    const ts = [0, 1 / 3, 2 / 3, 1];
    assert.deepEqual(ts.map((t) => gradientAt([0, 0.5, 1], t)), [0, 1 / 3, 2 / 3, 1]);
    // README: [1.0, 0.25] -> 1, 0.75, 0.5, 0.25 (up to float64 rounding, as mergekit's planner reports them)
    assert.deepEqual(ts.map((t) => gradientAt([1.0, 0.25], t)), [1, 0.7500000000000001, 0.5, 0.25]);
    // float64 exactly as mergekit: (1 - f) * g[i0] + f * g[i1]
    assert.equal(gradientAt([0.9, 0.3], 1 / 3), 0.7000000000000001);
    assert.equal(gradientAt([0.2, 0.4, 0.6, 0.8, 1.0], 1 / 3), 0.4666666666666667);
    assert.equal(gradientAt([0.5], 0.7), 0.5);
  });

  it("should match filters as substrings, the first matching condition winning", () => {
    assert.equal(filterMatches("layernorm", "model.layers.0.input_layernorm.weight"), true);
    assert.equal(filterMatches("layernorm", "model.norm.weight"), false);
    assert.equal(filterMatches("*", "x"), true);
    assert.equal(filterMatches(null, "x"), true);
    const spec = [{ filter: "self_attn", value: [0, 1] }, { filter: "mlp", value: 0.25 }, { filter: null, value: 0.7 }];
    assert.equal(evaluateSpec(spec, "model.layers.3.self_attn.q_proj.weight", 1), 1);
    assert.equal(evaluateSpec(spec, "model.layers.3.mlp.up_proj.weight", 1), 0.25);
    assert.equal(evaluateSpec(spec, "lm_head.weight", 0), 0.7);
    assert.equal(evaluateSpec([{ filter: "mlp", value: 1 }], "lm_head.weight", 0), null);
  });
});

const TIES_GRADIENT = `merge_method: ties
base_model: ./base
models:
  - model: ./sft
    parameters:
      weight:
        - filter: self_attn
          value: [0.0, 0.5, 1.0]
        - value: 0.7
      density: [0.2, 0.5, 0.8]
  - model: ./ct
    parameters:
      weight: 1.0
      density:
        - {filter: layernorm, value: 1.0}
        - value: [0.9, 0.3]
parameters:
  normalize: true
  lambda: [1.0, 0.8]
`;

describe("parsing gradients, filters, slices and passthrough", () => {
  it("should keep list values as specs and show their first value in the scalar fields", () => {
    const r = parse(TIES_GRADIENT);
    assert.deepEqual(r.models[0]!.parameters, {
      weight: [{ filter: "self_attn", value: [0, 0.5, 1] }, { filter: null, value: 0.7 }],
      density: [0.2, 0.5, 0.8],
    });
    assert.equal(r.models[0]!.weight, 0.7);
    assert.equal(r.models[0]!.density, 0.2);
    assert.equal(r.models[1]!.parameters!.weight, undefined, "a plain number needs no spec");
    assert.equal(r.models[1]!.density, 0.9);
    assert.deepEqual(r.parameters, { lambda: [1, 0.8] });
    assert.equal(r.lambda, 1);
    assert.equal(needsPlan(r), true);
    assert.equal(needsPlan(parse(TIES_GRADIENT.replace(/lambda: \[1.0, 0.8\]/, "lambda: 0.9").replace(/(weight|density):\n(\s+-.*\n(\s+value.*\n)?)+/g, "$1: 0.5\n").replace("density: [0.2, 0.5, 0.8]", "density: 0.5"))), false);
  });

  it("should parse slices: models in order of first appearance, the base left out", () => {
    const r = parse(`merge_method: ties
base_model: ./base
slices:
  - sources:
      - {model: ./base, layer_range: [0, 2]}
      - {model: ./sft, layer_range: [0, 2], parameters: {weight: 1.0, density: [0.3, 0.6]}}
      - {model: ./ct, layer_range: [0, 2], parameters: {weight: 0.5, density: 0.5}}
  - sources:
      - {model: ./base, layer_range: [2, 4]}
      - {model: ./ct, layer_range: [2, 4], parameters: {weight: [1.0, 0.0], density: 0.9}}
      - {model: ./sft, layer_range: [2, 4], parameters: {weight: 0.5, density: 0.4}}
    parameters: {lambda: 0.8}
`);
    assert.deepEqual(r.models.map((m) => [m.source, m.weight, m.density]), [["./sft", 1, 0.3], ["./ct", 0.5, 0.5]]);
    assert.equal(r.slices!.length, 2);
    assert.deepEqual(r.slices![1]!.parameters, { lambda: 0.8 });
    assert.deepEqual(r.slices![1]!.sources[1]!, { path: "/r/ct", source: "./ct", layerRange: [2, 4], parameters: { weight: [1, 0], density: 0.9 } });
  });

  it("should parse passthrough with a per-model scale, and slices with filtered scales", () => {
    const one = parse("merge_method: passthrough\nmodels:\n  - model: ./a\n    parameters: {scale: 0.7}\n");
    assert.equal(one.models[0]!.scale, 0.7);
    assert.equal(one.basePath, null);
    assert.equal(needsPlan(one), false);
    const up = parse(readFileSync(path.join(caseDir("cli_passthrough_depth_upscale_scale_bf16"), "recipe_native.yml"), "utf8"));
    assert.deepEqual(up.slices![1]!.parameters.scale, [{ filter: "o_proj", value: 0.5 }, { filter: "down_proj", value: 0.5 }, { filter: null, value: 1 }]);
  });

  it("should reject malformed slices and passthrough recipes with their YAML path", () => {
    const cases: [string, RegExp][] = [
      ["merge_method: passthrough\nslices:\n  - sources: []\n", /slices\[0\]\.sources \(line 3\): expected at least one source/],
      ["merge_method: passthrough\nslices:\n  - sources:\n      - {model: ./a, layer_range: [2, 1]}\n", /layer_range.*\[start, end\]: two integers with 0 <= start < end/],
      ["merge_method: passthrough\nslices:\n  - sources:\n      - {model: ./a, layer_range: [0, 1]}\n      - {model: ./b, layer_range: [0, 1]}\n", /slices\[0\]\.sources.*passthrough copies one model's layers per slice; this slice has 2 sources/],
      ["merge_method: linear\nslices:\n  - sources:\n      - {model: ./a, layer_range: [0, 2]}\n      - {model: ./b, layer_range: [0, 1]}\n", /every source of a slice must span the same number of layers; got \[0, 2\], \[0, 1\]/],
      ["merge_method: ties\nbase_model: ./base\nslices:\n  - sources:\n      - {model: ./a, layer_range: [0, 2]}\n", /list base_model \(`\.\/base`\) among this slice's sources/],
      ["merge_method: linear\nslices:\n  - sources:\n      - {model: ./a, layer_range: [0, 2]}\n      - {model: ./a, layer_range: [0, 2]}\n", /same model as sources\[0\] of this slice/],
      ["merge_method: linear\nslices:\n  - sources:\n      - {model: ./a, layer_range: [0, 2]}\n    parameters: {normalize: false}\n", /slices\[0\]\.parameters\.normalize.*only numeric parameters .* can be set per slice/],
      ["merge_method: linear\nmodels:\n  - model: ./a\nslices:\n  - sources:\n      - {model: ./a, layer_range: [0, 2]}\n", /give either `models:` or `slices:`, not both/],
      ["merge_method: passthrough\nmodels:\n  - model: ./a\n  - model: ./b\n", /passthrough copies one model's tensors: give exactly one model/],
    ];
    for (const [text, re] of cases) assert.match(parseError(text).message, re, text);
  });
});

function roundTrip(r: Recipe, dir = "/r"): void {
  const again = parse(recipeToYaml(r, { paths: "as-written" }), dir);
  assert.deepEqual({ ...again, notes: [], sourceText: null }, { ...r, notes: [], sourceText: null });
  const resolved = parse(recipeToYaml(r), "/elsewhere");
  assert.deepEqual(resolved.slices?.map((s) => s.sources.map((x) => x.path)), r.slices?.map((s) => s.sources.map((x) => x.path)));
  assert.deepEqual(resolved.models.map((m) => [m.path, m.parameters]), r.models.map((m) => [m.path, m.parameters]));
}

describe("YAML round trips of every gradient, filter and slice form", () => {
  for (const id of goldenCaseIds(["ties", "linear", "slerp", "passthrough"], ["cli"]).filter((x) => /gradients|slices|passthrough/.test(x))) {
    it(`should round-trip ${id}'s recipe`, () => {
      roundTrip(parse(readFileSync(path.join(caseDir(id), "recipe.yml"), "utf8"), caseDir(id)), caseDir(id));
    });
  }
  const more: Record<string, string> = {
    "a top-level gradient fallback for every model": "merge_method: ties\nbase_model: ./b\nmodels:\n  - model: ./x\n  - model: ./y\n    parameters: {density: 0.5}\nparameters:\n  density: [0.2, 1.0]\n  weight: [{filter: mlp, value: 2}, {value: 1}]\n",
    "slice-level per-model fallbacks and top-level scalars": "merge_method: linear\nslices:\n  - sources:\n      - {model: ./a, layer_range: [0, 2]}\n      - {model: ./b, layer_range: [0, 2]}\n    parameters:\n      weight: [{filter: q_proj, value: [0, 1]}, {value: 0.5}]\nparameters:\n  weight: 0.25\n  normalize: false\n",
    "breadcrumbs gamma gradient": "merge_method: breadcrumbs\nbase_model: ./b\nmodels:\n  - model: ./x\n    parameters: {density: 0.8, gamma: [0.01, 0.05]}\n",
    "passthrough scale filters": "merge_method: passthrough\nmodels:\n  - model: ./a\n    parameters:\n      scale: [{filter: o_proj, value: 0.5}, {value: 1.0}]\n",
    "slerp t conditions with gradients": "merge_method: slerp\nbase_model: ./b\nmodels:\n  - model: ./x\nparameters:\n  t: [{filter: self_attn, value: [0, 0.5, 1]}, {filter: mlp, value: [1, 0]}, {value: 0.5}]\n",
  };
  for (const [name, text] of Object.entries(more)) {
    it(`should round-trip ${name}`, () => roundTrip(parse(text)));
  }
});

describe("the plan of a models: recipe without a native engine", () => {
  it("should give embeddings the first gradient value and each layer its own", () => {
    const names = ["model.embed_tokens.weight", "model.layers.0.mlp.up_proj.weight", "model.layers.1.mlp.up_proj.weight", "model.layers.2.mlp.up_proj.weight", "model.norm.weight"];
    const r = parse("merge_method: task_arithmetic\nbase_model: /m/base\nmodels:\n  - model: /m/x\n    parameters: {weight: [0, 1]}\nparameters:\n  lambda: [{filter: norm, value: 0.5}, {value: [1, 2]}]\n");
    const { plan, numHiddenLayers } = buildMergePlan(r, () => names);
    assert.equal(numHiddenLayers, 3);
    assert.deepEqual(plan.sources, ["/m/base", "/m/x"]);
    assert.deepEqual(plan.tensors.map((t) => [t.name, t.inputs[0]!.weight, t.lambda]), [
      ["model.embed_tokens.weight", 0, 1],
      ["model.layers.0.mlp.up_proj.weight", 0, 1],
      ["model.layers.1.mlp.up_proj.weight", 0.5, 1.5],
      ["model.layers.2.mlp.up_proj.weight", 1, 2],
      ["model.norm.weight", 0, 0.5],
    ]);
  });

  it("should refuse a layer_range beyond a model's layers, naming the slice source", () => {
    const r = parse("merge_method: passthrough\nslices:\n  - sources:\n      - {model: /m/a, layer_range: [0, 3]}\n");
    assert.throws(() => buildMergePlan(r, () => ["model.layers.0.x", "model.layers.1.x"]), /slices\[0\]\.sources\[0\]\.layer_range: \[0, 3\] goes beyond the 2 layers of `\/m\/a`/);
  });
});
