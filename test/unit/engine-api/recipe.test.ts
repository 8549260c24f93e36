// mergekit YAML → Recipe → NativeMergeRequest / YAML: golden recipes, mergekit defaults,
// rejected features (by name), path resolution, ties_sv rules and error locations.
import assert from "node:assert/strict";
import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import {
  RecipeError,
  applyRecipeOverrides,
  loadRecipeFile,
  parseRecipeYaml,
  recipeToNativeRequest,
  recipeToYaml,
  type Recipe,
} from "@/server/engine/recipe";
import { goldenCaseIds, loadCase } from "../engine/golden-fixtures";
import { tempDir, type GoldenCaseFull } from "./helpers";

const DIR = "/data/recipes";
const parse = (text: string, recipeDir = DIR) => parseRecipeYaml(text, { recipeDir });

/** The RecipeError thrown by parsing `text` (fails the test if it parses). */
function parseError(text: string): RecipeError {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof RecipeError, `expected a RecipeError, got ${String(err)}`);
    assert.equal(err.code, "RECIPE_INVALID");
    return err;
  }
  assert.fail(`recipe parsed but should not have:\n${text}`);
}

const TIES = `merge_method: ties
base_model: ./base
models:
  - model: ./sft
    parameters:
      weight: 1.0
      density: 0.2
  - model: ./ct
    parameters:
      weight: 0.5
      density: 1.0
`;

const TIES_SV = `merge_method: ties_sv
base_model: ./base
models:
  - model: ./sft
    parameters: {weight: 1.0, density: 0.2, favored: true}
  - model: ./ct
    parameters: {weight: 1.0, density: 0.2}
parameters:
  slack: 0.04
`;

const request = (r: Recipe, extra: Partial<Parameters<typeof recipeToNativeRequest>[1]> = {}) =>
  recipeToNativeRequest(r, { outDir: null, shardSizeBytes: 5e9, threads: 0, ...extra });

describe("golden recipes", () => {
  for (const id of goldenCaseIds(["linear", "task_arithmetic", "ties", "breadcrumbs", "breadcrumbs_ties", "slerp", "model_stock", "della", "della_linear"], ["tensor", "tie_order"])) {
    const c = loadCase(id) as GoldenCaseFull;
    for (const field of ["mergekit_yaml_expected", "mergekit_yaml_native"] as const) {
      const yaml = c[field];
      if (!yaml) continue; // tie_order cases store the storage-dtype YAML only
      it(`${id} ${field}`, () => {
        const r = parse(yaml);
        assert.equal(r.method, c.method);
        assert.equal(r.basePath, c.base ? path.join(DIR, "base") : null);
        assert.deepEqual(
          r.models.map((m) => [m.path, m.weight]),
          c.models.map((m) => [path.join(DIR, m.role), m.weight ?? 1]), // slerp / model_stock: no weights (1)
        );
        if (c.method === "ties" || c.method.startsWith("breadcrumbs") || c.method.startsWith("della")) {
          assert.deepEqual(r.models.map((m) => m.density), c.models.map((m) => m.density ?? 1));
        }
        if (c.method.startsWith("della")) {
          assert.deepEqual(r.models.map((m) => m.epsilon), c.models.map((m) => m.epsilon ?? 0.15));
          assert.equal(r.rescale, c.parameters_effective.rescale);
          assert.equal(r.randomStream, "mergekit");
        }
        assert.equal(r.tieOrder, "mergekit");
        if (c.method.startsWith("breadcrumbs")) assert.deepEqual(r.models.map((m) => m.gamma), c.models.map((m) => m.gamma));
        if (c.method === "slerp") assert.equal(r.t, c.parameters_effective.t);
        if (c.method === "model_stock") assert.equal(r.filterWise, c.parameters_effective.filter_wise);
        if (c.parameters_effective.normalize !== undefined) assert.equal(r.normalize, c.parameters_effective.normalize);
        if (c.method !== "linear") assert.equal(r.lambda, c.parameters_effective.lambda ?? 1);
        // The golden YAML cannot express count consensus (see its NOTE comment): sum.
        assert.equal(r.consensus, "sum");
        const req = request(r);
        if (field === "mergekit_yaml_expected") {
          assert.equal(req.computeDtype, "F32");
          assert.equal(req.outDtype, c.storage_dtype === "F32" ? null : c.storage_dtype);
        } else {
          assert.equal(req.computeDtype, "storage");
          assert.equal(req.outDtype, null);
        }
      });
    }
  }
});

describe("mergekit defaults", () => {
  it("normalize is true for linear, ties and ties_sv, false for task_arithmetic", () => {
    const linear = parse("merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 1}\n  - model: b\n    parameters: {weight: 1}\n");
    assert.equal(linear.normalize, true);
    assert.equal(parse(TIES).normalize, true);
    assert.equal(parse(TIES_SV).normalize, true);
    const ta = parse("merge_method: task_arithmetic\nbase_model: base\nmodels:\n  - model: a\n    parameters: {weight: 1}\n");
    assert.equal(ta.normalize, false);
  });

  it("fills lambda 1, consensus sum, density 1, rescale/int8_mask false, dtypes absent", () => {
    const r = parse("merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n    parameters: {weight: 0.3}\n");
    assert.equal(r.lambda, 1);
    assert.equal(r.consensus, "sum");
    assert.equal(r.models[0]!.density, 1);
    assert.equal(r.rescale, false);
    assert.equal(r.int8Mask, false);
    assert.equal(r.dtype, null);
    assert.equal(r.outDtype, null);
    assert.deepEqual(r.notes, []);
    const req = request(r);
    assert.equal(req.computeDtype, "storage");
    assert.equal(req.outDtype, null);
    assert.equal(req.slack, 0);
    assert.equal(req.slackScope, "model");
  });

  it("defaults a missing weight to 1.0 and says so", () => {
    const r = parse("merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n  - model: b\n    parameters: {weight: 2}\n");
    assert.deepEqual(r.models.map((m) => m.weight), [1, 2]);
    assert.equal(r.notes.length, 1);
    assert.match(r.notes[0]!, /models\[0\]: no `weight` given; using 1\.0/);
  });

  it("takes weight and density from top-level parameters as defaults for every model", () => {
    const r = parse("merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n  - model: b\n    parameters: {density: 0.7}\nparameters:\n  weight: 0.5\n  density: 0.3\n");
    assert.deepEqual(r.models.map((m) => [m.weight, m.density]), [[0.5, 0.3], [0.5, 0.7]]);
    assert.deepEqual(r.notes, []);
  });

  it("maps dtype / out_dtype to the engine's compute and output dtypes", () => {
    const r = parse(`${TIES}dtype: bfloat16\nout_dtype: float16\n`);
    assert.deepEqual([r.dtype, r.outDtype], ["bfloat16", "float16"]);
    const req = request(r);
    assert.deepEqual([req.computeDtype, req.outDtype], ["BF16", "F16"]);
  });

  it("accepts count consensus for ties", () => {
    const r = parse(`${TIES}parameters:\n  consensus: count\n`);
    assert.equal(r.consensus, "count");
    assert.equal(request(r).consensus, "count");
  });

  it("drops a models[] entry that is the base model for task-vector methods, with a note", () => {
    const r = parse("merge_method: ties\nbase_model: ./base\nmodels:\n  - model: base/\n  - model: ./a\n    parameters: {weight: 1}\n");
    assert.deepEqual(r.models.map((m) => m.path), [path.join(DIR, "a")]);
    assert.match(r.notes.join("\n"), /models\[0\] \(`base\/`\) is the base model; it is left out of the task vectors/);
  });

  it("keeps the base model as an averaged model for linear, and sends no base to the engine", () => {
    const r = parse("merge_method: linear\nbase_model: a\nmodels:\n  - model: a\n    parameters: {weight: 1}\n  - model: b\n    parameters: {weight: 1}\n");
    assert.equal(r.models.length, 2);
    assert.equal(r.basePath, path.join(DIR, "a"));
    assert.equal(request(r).basePath, null);
  });

  it("notes parameters that mergekit accepts but that do nothing for the method", () => {
    const r = parse(
      "merge_method: task_arithmetic\nbase_model: base\nmodels:\n  - model: a\n    parameters: {weight: 1, density: 0.5, gamma: 0.01}\nparameters:\n  int8_mask: true\n  rescale: true\n  t: 0.5\n",
    );
    assert.equal(r.models[0]!.density, 1);
    const notes = r.notes.join("\n");
    for (const re of [/`density` has no effect on task_arithmetic/, /`gamma` is a breadcrumbs parameter/, /`int8_mask`/, /`rescale: true` has no effect/, /`t` is a slerp \/ nearswap parameter/]) {
      assert.match(notes, re);
    }
  });
});

describe("unsupported mergekit features fail by name", () => {
  const cases: [string, string, RegExp][] = [
    ["chat_template", `${TIES}chat_template: chatml\n`, /mergekit key `chat_template` is not supported/],
    ["modules", `${TIES}modules: {}\n`, /mergekit key `modules` is not supported/],
    ["ram", "merge_method: ram\nbase_model: a\nmodels:\n  - model: b\n", /merge_method.*`ram` is not supported by MergeScope/],
    ["unknown method", TIES.replace("ties", "frobnicate"), /merge_method \(line 1\): expected linear \| task_arithmetic \| ties \| ties_sv \| breadcrumbs .* model_stock .*della_linear.* nearswap, got 'frobnicate'/],
    ["slice source with a LoRA", "merge_method: passthrough\nslices:\n  - sources: [{model: a+l, layer_range: [0, 1]}]\n", /slices\[0\]\.sources\[0\]\.model.*LoRA adapters .* work with whole-model merges/],
    ["empty gradient", "merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n    parameters:\n      weight: []\n", /models\[0\]\.parameters\.weight.*an empty list/],
    ["gradient out of range", "merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n    parameters:\n      density: [0.2, 1.5]\n", /models\[0\]\.parameters\.density.*gradient value \[1\] must be a number in \[0, 1\], got 1\.5/],
    [
      "filter condition with an unknown key",
      "merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n    parameters:\n      density:\n        - filter: self_attn\n          valeu: 0.5\n",
      /models\[0\]\.parameters\.density.*condition \[0\]: unknown key `valeu`/,
    ],
    [
      "filter condition without a number",
      "merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n    parameters:\n      density:\n        - {filter: mlp, value: high}\n",
      /condition \[0\]: `value` must be a number in \[0, 1\] or a gradient list, got 'high'/,
    ],
    ["filter mapping on a boolean", `${TIES}parameters:\n  normalize: {filter: mlp, value: true}\n`, /parameters\.normalize.*expected true or false, got a mapping with keys `filter`, `value`/],
    ["other method's parameter", `${TIES}parameters:\n  embed_slerp: true\n`, /parameters\.embed_slerp.*belongs to mergekit's `slerp` method/],
    ["unknown top-level key", `${TIES}colour: blue\n`, /colour \(line \d+\): unknown key `colour` \(supported here: merge_method, base_model, models/],
    ["unknown model key", "merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n    weight: 1\n", /models\[0\]\.weight \(line 5\): unknown key `weight` \(supported here: model, parameters\)/],
    ["unknown model parameter", "merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n    parameters: {weigth: 1}\n", /models\[0\]\.parameters\.weigth.*unknown key `weigth` \(supported here: weight, density, gamma, epsilon, scale, favored\)/],
    ["rescale with trimming", `${TIES}parameters:\n  rescale: true\n`, /parameters\.rescale.*`rescale: true`.*supported for dare_linear, dare_ties, della, della_linear only/],
    ["several YAML documents", `${TIES}---\n${TIES}`, /2 YAML documents/],
  ];
  for (const [name, text, re] of cases) {
    it(name, () => assert.match(parseError(text).message, re));
  }

  it("reports every rejected key of a recipe at once", () => {
    const err = parseError(`${TIES}modules: {}\nchat_template: chatml\n`);
    assert.deepEqual(err.issues.map((i) => i.path), ["modules", "chat_template"]);
  });
});

describe("error messages name the YAML path and line", () => {
  it("a density that is not a number", () => {
    const text = "merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n    parameters: {weight: 1, density: 0.5}\n  - model: b\n    parameters:\n      weight: 1\n      density: high\n";
    const err = parseError(text);
    assert.equal(err.message, "models[1].parameters.density (line 9): expected a number in [0, 1], got 'high'");
    assert.deepEqual(err.issues, [{ path: "models[1].parameters.density", line: 9, message: "expected a number in [0, 1], got 'high'" }]);
  });

  it("out-of-range values, wrong types and missing keys", () => {
    const err = parseError("merge_method: ties\nbase_model: 3\nmodels:\n  - model: a\n    parameters: {weight: x, density: 1.5}\nparameters:\n  normalize: yes\ndtype: fp8\n");
    const byPath = Object.fromEntries(err.issues.map((i) => [i.path, i.message]));
    assert.equal(byPath["base_model"], "expected a model path string (or {model: PATH, lora: PATH}), got 3");
    assert.equal(byPath["models[0].parameters.weight"], "expected a finite number, got 'x'");
    assert.equal(byPath["models[0].parameters.density"], "expected a number in [0, 1], got 1.5");
    // YAML 1.2: `yes` is a string, not a boolean (mergekit's loader agrees).
    assert.equal(byPath["parameters.normalize"], "expected true or false, got 'yes'");
    assert.equal(byPath["dtype"], "expected float32 | float16 | bfloat16, got 'fp8'");
    assert.match(parseError("merge_method: ties\nbase_model: b\n").message, /^models: required: `models:` \(whole-model merges\) or `slices:`/);
    assert.match(parseError("models:\n  - model: a\n").message, /^merge_method: expected linear \| task_arithmetic \| ties \| ties_sv \| .* \| model_stock \| .* \| nearswap, got nothing$/);
  });

  it("YAML syntax errors give line and column", () => {
    assert.match(parseError("merge_method: ties\nmodels: [\n  - a\n").message, /^invalid YAML at line \d+, column \d+: /);
    assert.match(parseError("merge_method: ties\nmerge_method: linear\n").message, /invalid YAML at line 2.*unique/i);
  });

  it("a recipe that is not a mapping, or empty", () => {
    assert.match(parseError("- a\n- b\n").message, /a recipe must be a YAML mapping/);
    assert.match(parseError("").message, /(empty|must be a YAML mapping)/);
  });

  it("missing base model, duplicates and linear with an unused base", () => {
    assert.match(parseError("merge_method: ties\nmodels:\n  - model: a\n").message, /^base_model: required for merge_method `ties`/);
    assert.match(
      parseError("merge_method: ties\nbase_model: base\nmodels:\n  - model: a\n    parameters: {weight: 1}\n  - model: ./a/\n    parameters: {weight: 1}\n").message,
      /models\[1\]\.model \(line 6\): same model as models\[0\]/,
    );
    assert.match(parseError("merge_method: linear\nbase_model: c\nmodels:\n  - model: a\n    parameters: {weight: 1}\n").message, /linear` does not use a base model/);
    assert.match(parseError("merge_method: ties\nbase_model: base\nmodels:\n  - model: base\n").message, /no models left to merge/);
  });
});

describe("della, tie order and random streams", () => {
  const DELLA = "merge_method: della\nbase_model: ./base\nmodels:\n  - model: ./sft\n    parameters: {weight: 1.0, density: 0.5, epsilon: 0.1}\n  - model: ./ct\n    parameters: {weight: 0.8, density: 0.4}\n";

  it("della takes mergekit's defaults: normalize (della true, della_linear false), rescale, epsilon 0.15, mergekit's stream", () => {
    const r = parse(DELLA);
    assert.equal(r.method, "della");
    assert.deepEqual(r.models.map((m) => [m.density, m.epsilon]), [[0.5, 0.1], [0.4, 0.15]]);
    assert.deepEqual([r.normalize, r.rescale, r.randomStream, r.tieOrder, r.seed], [true, true, "mergekit", "mergekit", 0]);
    assert.deepEqual(r.notes, []);
    const lin = parse(DELLA.replace("della", "della_linear"));
    assert.deepEqual([lin.normalize, lin.rescale, lin.consensus], [false, true, "sum"]);
    assert.match(recipeToYaml(r), /epsilon: 0\.1/);
    assert.deepEqual(request(r).models.map((m) => m.epsilon), [0.1, 0.15]);
    assert.equal(request(r).randomStream, "mergekit");
  });

  it("della refuses density -+ epsilon outside (0, 1) at the model that says so, and random: counter", () => {
    const err = parseError(DELLA.replace("epsilon: 0.1", "epsilon: 0.5"));
    assert.equal(err.issues[0]!.path, "models[0].parameters.epsilon");
    assert.match(err.message, /density 0\.5 with epsilon 0\.5 does not .*Lower epsilon below 0\.5/);
    assert.match(parseError(`${DELLA}parameters:\n  epsilon: 0.45\n`).message, /models\[1\]\.parameters\.density.*density 0\.4 with epsilon 0\.45/);
    assert.match(parseError(`${DELLA}random: counter\n`).message, /della draws its keep masks from mergekit's random stream only/);
    // density 1 (no draws) and 0 (zeros) take any epsilon, as mergekit's della_magprune returns early
    assert.doesNotThrow(() => parse(DELLA.replace("density: 0.5, epsilon: 0.1", "density: 1, epsilon: 0.9")));
  });

  it("tie_order and random: at the top level or under parameters, validated, written back only when not the default", () => {
    const ties = parse(`${TIES}tie_order: index\n`);
    assert.equal(ties.tieOrder, "index");
    assert.equal(request(ties).tieOrder, "index");
    assert.match(recipeToYaml(ties), /tie_order: index/);
    assert.doesNotMatch(recipeToYaml(parse(TIES)), /tie_order/);
    assert.equal(parse(`${TIES}parameters:\n  tie_order: index\n`).tieOrder, "index");
    assert.match(parseError(`${TIES}tie_order: lowest\n`).message, /tie_order \(line \d+\): expected mergekit \| index, got 'lowest'/);
    assert.match(parseError(`${TIES}tie_order: index\nparameters:\n  tie_order: mergekit\n`).message, /tie_order.*given twice/);
    const dare = parse(`${TIES.replace("ties", "dare_ties")}random: mergekit\nseed: 42\n`);
    assert.deepEqual([dare.randomStream, dare.seed], ["mergekit", 42]);
    assert.match(recipeToYaml(dare), /random: mergekit/);
    assert.equal(parse(TIES.replace("ties", "dare_ties")).randomStream, "counter");
    assert.match(parse(`${TIES}random: mergekit\n`).notes.join("\n"), /`random` only affects dare_linear and dare_ties; it has no effect on ties/);
    assert.match(parse(`merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 1}\ntie_order: index\n`).notes.join("\n"), /`tie_order` only affects/);
  });

  it("CLI overrides follow the same rules", () => {
    const r = applyRecipeOverrides(parse(TIES.replace("ties", "dare_linear")), { seed: 7, tieOrder: "index", randomStream: "mergekit" });
    assert.deepEqual([r.seed, r.randomStream, r.tieOrder], [7, "mergekit", "mergekit"]);
    assert.match(r.notes.join("\n"), /--tie-order only affects/);
    assert.equal(applyRecipeOverrides(parse(TIES), { tieOrder: "index" }).tieOrder, "index");
    assert.throws(() => applyRecipeOverrides(parse(DELLA), { randomStream: "counter" }), /della draws its keep masks from mergekit's random stream only/);
  });
});

describe("ties_sv", () => {
  it("parses the favored model, slack and scope", () => {
    const r = parse(TIES_SV);
    assert.deepEqual(r.models.map((m) => m.favored), [true, false]);
    assert.equal(r.slack, 0.04);
    assert.equal(r.slackScope, "model");
    const req = request(parse(TIES_SV.replace("slack: 0.04", "slack: 0.1\n  slack_scope: tensor")));
    assert.deepEqual([req.method, req.slack, req.slackScope, req.consensus], ["ties_sv", 0.1, "tensor", "sum"]);
  });

  it("needs exactly one favored model", () => {
    assert.match(parseError(TIES_SV.replace(", favored: true", "")).message, /exactly one model with `favored: true`.*found 0/);
    assert.match(parseError(TIES_SV.replace("density: 0.2}\n", "density: 0.2, favored: true}\n")).message, /found 2 \(models\[0\], models\[1\]\)/);
  });

  it("needs slack in [0, 1] and a known scope", () => {
    assert.match(parseError(TIES_SV.replace("  slack: 0.04\n", "  normalize: true\n")).message, /parameters\.slack \(line 8\): required for ties_sv/);
    assert.match(parseError(TIES_SV.replace("slack: 0.04", "slack: 1.5")).message, /parameters\.slack \(line \d+\): expected a number in \[0, 1\], got 1\.5/);
    assert.match(parseError(TIES_SV.replace("slack: 0.04", "slack: 0.04\n  slack_scope: layer")).message, /parameters\.slack_scope.*expected model \| tensor, got 'layer'/);
  });

  it("requires sum consensus; its parameters are rejected on other methods", () => {
    assert.match(parseError(TIES_SV.replace("slack: 0.04", "slack: 0.04\n  consensus: count")).message, /ties_sv requires consensus `sum`/);
    assert.match(parseError(`${TIES}parameters:\n  slack: 0.04\n`).message, /parameters\.slack.*ties_sv parameter/);
    assert.match(parseError(TIES.replace("density: 0.2", "density: 0.2\n      favored: true")).message, /favored.*ties_sv parameter/);
    assert.match(
      parseError("merge_method: task_arithmetic\nbase_model: b\nmodels:\n  - model: a\n    parameters: {weight: 1}\nparameters:\n  consensus: sum\n").message,
      /`consensus` only applies to ties, ties_sv, breadcrumbs_ties, dare_ties/,
    );
  });
});

describe("the other mergekit methods", () => {
  const withMethod = (method: string, extra = "") => TIES.replace("merge_method: ties", `merge_method: ${method}`) + extra;

  it("breadcrumbs: gamma per model or global (default 0.01), normalize false, the edge-case flag", () => {
    const r = parse(withMethod("breadcrumbs_ties", "parameters:\n  gamma: 0.05\n  keep_if_no_outliers: true\n").replace("density: 0.2", "density: 0.2\n      gamma: 0.1"));
    assert.deepEqual(r.models.map((m) => m.gamma), [0.1, 0.05]);
    assert.equal(r.normalize, false);
    assert.equal(r.keepIfNoOutliers, true);
    assert.equal(parse(withMethod("breadcrumbs")).models[0]!.gamma, 0.01);
    assert.equal(parse(withMethod("breadcrumbs")).keepIfNoOutliers, false);
    assert.match(parse(withMethod("ties", "parameters:\n  keep_if_no_outliers: true\n")).notes.join(), /keep_if_no_outliers.*breadcrumbs parameter/);
  });

  it("dare: rescale defaults to true, seed at the top level or under parameters", () => {
    const r = parse(withMethod("dare_ties", "seed: 42\n"));
    assert.equal(r.rescale, true);
    assert.equal(r.seed, 42);
    assert.equal(r.normalize, false);
    assert.equal(parse(withMethod("dare_linear", "parameters:\n  seed: 7\n  rescale: false\n")).seed, 7);
    assert.equal(parse(withMethod("dare_linear", "parameters:\n  rescale: false\n")).rescale, false);
    assert.equal(parse(withMethod("dare_linear")).seed, 0);
    assert.match(parseError(withMethod("dare_ties", "seed: 1\nparameters:\n  seed: 2\n")).message, /seed.*given twice/);
    assert.match(parseError(withMethod("dare_ties", "seed: -1\n")).message, /seed.*expected an integer in \[0, 2\^53\), got -1/);
    assert.match(parseError(withMethod("dare_ties", "seed: 1.5\n")).message, /expected an integer/);
    const req = recipeToNativeRequest(parse(withMethod("dare_ties", "seed: 42\n")), { outDir: null, shardSizeBytes: 1e9, threads: 0 });
    assert.equal(req.seed, 42);
    assert.equal(req.rescale, true);
  });

  it("slerp: t required, base plus exactly one model (the base may be listed)", () => {
    const slerp = "merge_method: slerp\nbase_model: ./a\nmodels:\n  - model: ./a\n  - model: ./b\nparameters:\n  t: 0.3\n";
    const r = parse(slerp);
    assert.equal(r.t, 0.3);
    assert.deepEqual(r.models.map((m) => m.source), ["./b"]);
    assert.match(parseError(slerp.replace("parameters:\n  t: 0.3\n", "")).message, /parameters\.t.*required for slerp/);
    assert.match(parseError(slerp.replace("  - model: ./b\n", "  - model: ./b\n  - model: ./c\n")).message, /exactly one other model; found 2/);
    // a gradient: the scalar field holds its first value, the plan the per-tensor ones
    assert.deepEqual(parse(slerp.replace("t: 0.3", "t: [0.2, 1]")).parameters?.t, [0.2, 1]);
    assert.equal(parse(slerp.replace("t: 0.3", "t: [0.2, 1]")).t, 0.2);
  });

  it("model_stock: at least two models, filter_wise, weights ignored", () => {
    const ms = "merge_method: model_stock\nbase_model: base\nmodels:\n  - model: a\n  - model: b\nparameters:\n  filter_wise: true\n";
    const r = parse(ms);
    assert.equal(r.filterWise, true);
    assert.equal(r.models.length, 2);
    assert.match(parseError(ms.replace("  - model: b\n", "")).message, /model_stock needs at least two models/);
    assert.match(parse(ms.replace("  - model: a\n", "  - model: a\n    parameters: {weight: 0.3}\n")).notes.join(), /weight.*no effect on model_stock/);
  });
});

describe("paths", () => {
  it("resolves relative paths against the recipe folder and keeps absolute ones", () => {
    const r = parse("merge_method: ties\nbase_model: /models/base/\nmodels:\n  - model: ../ckpt/ct-8B\n    parameters: {weight: 1}\n  - model: sft\n    parameters: {weight: 1}\n");
    assert.equal(r.basePath, "/models/base");
    assert.equal(r.baseSource, "/models/base/");
    assert.deepEqual(r.models.map((m) => [m.path, m.source]), [
      ["/data/ckpt/ct-8B", "../ckpt/ct-8B"],
      ["/data/recipes/sft", "sft"],
    ]);
  });

  it("loadRecipeFile resolves against the file's folder and names the file in errors", async (t) => {
    const dir = tempDir(t);
    mkdirSync(path.join(dir, "sub"));
    const file = path.join(dir, "sub", "recipe.yml");
    writeFileSync(file, TIES);
    const r = await loadRecipeFile(path.relative(process.cwd(), file));
    assert.equal(r.basePath, path.join(dir, "sub", "base"));
    writeFileSync(file, "merge_method: ties\n");
    await assert.rejects(loadRecipeFile(file), (err: RecipeError) => err.code === "RECIPE_INVALID" && err.message.startsWith(`${file}: `));
    await assert.rejects(loadRecipeFile(path.join(dir, "missing.yml")), /cannot read recipe .*missing\.yml: no such file/);
  });
});

describe("recipeToNativeRequest", () => {
  it("passes models, weights and paths through, resolving outDir", () => {
    const req = request(parse(TIES), { outDir: "out", threads: 4, shardSizeBytes: 1000 });
    assert.deepEqual(req, {
      method: "ties",
      consensus: "sum",
      normalize: true,
      lambda: 1,
      computeDtype: "storage",
      outDtype: null,
      slack: 0,
      slackScope: "model", rescale: false, seed: 0, randomStream: "counter", tieOrder: "mergekit", keepIfNoOutliers: false, t: 0, filterWise: false, densities: null,
      basePath: "/data/recipes/base",
      models: [
        { path: "/data/recipes/sft", weight: 1, density: 0.2, favored: false, gamma: 0.01, epsilon: 0.15 },
        { path: "/data/recipes/ct", weight: 0.5, density: 1, favored: false, gamma: 0.01, epsilon: 0.15 },
      ],
      outDir: path.resolve("out"),
      shardSizeBytes: 1000,
      threads: 4,
      plan: null,
    });
  });

  it("a compute dtype override keeps the recipe's output dtype", () => {
    const f32 = parse(`${TIES}dtype: float32\n`);
    assert.deepEqual(pick(request(f32, { computeDtypeOverride: "storage" })), ["storage", "F32"]);
    const pinned = parse(`${TIES}dtype: float32\nout_dtype: bfloat16\n`);
    assert.deepEqual(pick(request(pinned, { computeDtypeOverride: "storage" })), ["storage", "BF16"]);
    const storage = parse(TIES);
    assert.deepEqual(pick(request(storage, { computeDtypeOverride: "storage" })), ["storage", null]);
    assert.deepEqual(pick(request(storage, { computeDtypeOverride: "float32", baseStorageDtype: "BF16" })), ["F32", "BF16"]);
    assert.throws(() => request(storage, { computeDtypeOverride: "float32" }), /add `out_dtype:` to the recipe/);
  });

  it("validates its options", () => {
    const r = parse(TIES);
    assert.throws(() => request(r, { threads: -1 }), /expected an integer >= 0 for threads, got -1/);
    assert.throws(() => request(r, { shardSizeBytes: 0 }), /expected a positive integer for shardSizeBytes, got 0/);
    assert.throws(() => request(r, { computeDtypeOverride: "f16" as never }), /expected float32 \| storage for computeDtypeOverride, got "f16"/);
  });
});

function pick(r: { computeDtype: string; outDtype: string | null }) {
  return [r.computeDtype, r.outDtype];
}

describe("recipeToYaml", () => {
  const recipes = {
    ties: `${TIES}parameters:\n  consensus: count\n  lambda: 0.9\n  normalize: false\ndtype: float32\nout_dtype: bfloat16\n`,
    ties_sv: TIES_SV.replace("slack: 0.04", "slack: 0.04\n  slack_scope: tensor"),
    linear: "merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 0.6}\n  - model: b\n    parameters: {weight: 0.4}\nparameters:\n  normalize: false\n",
    task_arithmetic: "merge_method: task_arithmetic\nbase_model: base\nmodels:\n  - model: a\n    parameters: {weight: -0.5}\nparameters:\n  lambda: 0.75\n",
    breadcrumbs: `${TIES.replace("merge_method: ties", "merge_method: breadcrumbs")}parameters:\n  gamma: 0.05\n  normalize: true\n`,
    breadcrumbs_ties: `${TIES.replace("merge_method: ties", "merge_method: breadcrumbs_ties").replace("density: 0.2", "density: 0.2\n      gamma: 0.1")}parameters:\n  keep_if_no_outliers: true\n  consensus: count\n`,
    dare_linear: `${TIES.replace("merge_method: ties", "merge_method: dare_linear")}seed: 42\nparameters:\n  rescale: false\n`,
    dare_ties: `${TIES.replace("merge_method: ties", "merge_method: dare_ties")}parameters:\n  seed: 7\n  lambda: 0.8\n`,
    slerp: "merge_method: slerp\nbase_model: ./a\nmodels:\n  - model: ./b\nparameters:\n  t: 0.3\n",
    model_stock: "merge_method: model_stock\nbase_model: ./a\nmodels:\n  - model: ./b\n  - model: ./c\nparameters:\n  filter_wise: true\n",
  };
  for (const [name, text] of Object.entries(recipes)) {
    it(`round-trips ${name}`, () => {
      const r = parse(text);
      const again = parse(recipeToYaml(r), "/somewhere/else");
      // Resolved paths are local: a name that could have been a Hugging Face id no longer is.
      const local = (x: Recipe) => ({ ...x, notes: [], sourceText: null, baseHf: null, models: x.models.map((m) => ({ ...m, hf: null })) });
      assert.deepEqual(local(again), local({ ...r, baseSource: r.basePath, models: r.models.map((m) => ({ ...m, source: m.path })) }));
      const asWritten = parse(recipeToYaml(r, { paths: "as-written" }));
      assert.deepEqual({ ...asWritten, notes: [], sourceText: null }, { ...r, notes: [], sourceText: null });
    });
  }

  it("writes mergekit YAML with MergeScope extensions only when used", () => {
    const yaml = recipeToYaml(parse(TIES), { paths: "as-written" });
    assert.equal(
      yaml,
      "merge_method: ties\nbase_model: ./base\nmodels:\n  - model: ./sft\n    parameters:\n      weight: 1\n      density: 0.2\n  - model: ./ct\n    parameters:\n      weight: 0.5\n      density: 1\nparameters:\n  normalize: true\n  lambda: 1\n",
    );
    assert.match(recipeToYaml(parse(TIES_SV)), /favored: true[\s\S]*slack: 0\.04\n  slack_scope: model/);
  });

  it("writes each new method's keys and nothing the parser would call a no-op", () => {
    const slerp = recipeToYaml(parse("merge_method: slerp\nbase_model: ./a\nmodels:\n  - model: ./b\nparameters:\n  t: 0.3\n"), { paths: "as-written" });
    assert.equal(slerp, "merge_method: slerp\nbase_model: ./a\nmodels:\n  - model: ./b\nparameters:\n  t: 0.3\n");
    const stock = parse(recipeToYaml(parse("merge_method: model_stock\nbase_model: ./a\nmodels:\n  - model: ./b\n  - model: ./c\n")));
    assert.deepEqual(stock.notes, []);
    const dare = recipeToYaml(parse(`${TIES.replace("merge_method: ties", "merge_method: dare_ties")}parameters:\n  rescale: false\n`));
    assert.match(dare, /rescale: false\n  seed: 0\n/);
    const crumbs = recipeToYaml(parse(TIES.replace("merge_method: ties", "merge_method: breadcrumbs")));
    assert.match(crumbs, /density: 0\.2\n      gamma: 0\.01\n/);
    assert.doesNotMatch(crumbs, /keep_if_no_outliers/);
  });
});
