// Recipes of sce, nuslerp, multislerp, karcher, arcee_fusion and nearswap: the golden cases'
// YAML with mergekit's effective parameters, mergekit's defaults, its errors (by name), the
// notes for keys that do nothing, the YAML round trip and the engine request.
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { buildModelCard } from "@/server/engine/output/model-card";
import { RecipeError, parseRecipeYaml, recipeToNativeRequest, recipeToYaml, type Recipe } from "@/server/engine/recipe";
import { NEWER_METHODS } from "@/server/engine/recipe/newer-methods";
import { buildStatsReport } from "@/server/engine/stats";
import { goldenCaseIds, loadCase } from "../engine/golden-fixtures";
import type { GoldenCaseFull } from "./helpers";

const DIR = "/data/recipes";
const parse = (text: string) => parseRecipeYaml(text, { recipeDir: DIR });
const request = (r: Recipe) => recipeToNativeRequest(r, { outDir: null, shardSizeBytes: 5e9, threads: 0 });

function parseError(text: string): RecipeError {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof RecipeError, String(err));
    return err;
  }
  assert.fail(`parsed but should not have:\n${text}`);
}

const models = (...names: string[]) => `models:\n${names.map((n) => `  - model: ${n}\n`).join("")}`;
const weighted = (...ws: [string, number][]) => `models:\n${ws.map(([n, w]) => `  - model: ${n}\n    parameters: {weight: ${w}}\n`).join("")}`;

describe("golden recipes of the newer methods", () => {
  for (const id of goldenCaseIds(NEWER_METHODS)) {
    const c = loadCase(id) as GoldenCaseFull & {
      parameters_effective: Record<string, number | boolean>;
      model_parameters_effective: Record<string, { weight?: number }>;
    };
    for (const field of ["mergekit_yaml_expected", "mergekit_yaml_native"] as const) {
      const yaml = c[field];
      if (yaml === null) continue;
      it(`${id} ${field}`, () => {
        const r = parse(yaml);
        assert.equal(r.method, c.method);
        assert.equal(r.basePath, c.base ? path.join(DIR, "base") : null);
        assert.deepEqual(r.models.map((m) => m.path), c.models.map((m) => path.join(DIR, m.role)));
        if (c.method === "nuslerp" || c.method === "multislerp") {
          assert.deepEqual(r.models.map((m) => m.weight), c.models.map((m) => c.model_parameters_effective[m.role]!.weight));
        }
        const pe = c.parameters_effective;
        const want: Partial<Recipe> = {
          ...(pe.select_topk !== undefined ? { selectTopk: pe.select_topk as number } : {}),
          ...(pe.nuslerp_flatten !== undefined ? { nuslerpFlatten: pe.nuslerp_flatten as boolean, nuslerpRowWise: pe.nuslerp_row_wise as boolean } : {}),
          ...(pe.normalize_weights !== undefined ? { normalizeWeights: pe.normalize_weights as boolean, eps: pe.eps as number } : {}),
          ...(pe.max_iter !== undefined ? { maxIter: pe.max_iter as number, tol: pe.tol as number } : {}),
          ...(pe.t !== undefined ? { t: pe.t as number } : {}),
        };
        for (const [k, v] of Object.entries(want)) assert.equal(r[k as keyof Recipe], v, k);
        const req = request(r);
        assert.equal(req.computeDtype, field === "mergekit_yaml_expected" ? "F32" : "storage");
        assert.equal(req.basePath, r.basePath);
        assert.equal(req.selectTopk, r.selectTopk);
        assert.equal(req.maxIter, r.maxIter);
        assert.deepEqual(r.notes, [], "the golden recipes use only keys their method reads");
      });
    }
  }
});

describe("mergekit 0.1.4 defaults and parameter names", () => {
  it("fills select_topk 1, nuslerp flatten / not row-wise, multislerp normalize_weights and eps, karcher max_iter and tol", () => {
    assert.equal(parse(`merge_method: sce\nbase_model: b\n${models("x", "y")}`).selectTopk, 1);
    const nu = parse(`merge_method: nuslerp\n${weighted(["x", 1], ["y", 1])}`);
    assert.deepEqual([nu.nuslerpFlatten, nu.nuslerpRowWise, nu.basePath], [true, false, null]);
    const ms = parse(`merge_method: multislerp\n${weighted(["x", 1], ["y", 2], ["z", 3])}`);
    assert.deepEqual([ms.normalizeWeights, ms.eps], [true, 1e-8]);
    const ka = parse(`merge_method: karcher\n${models("x", "y")}`);
    assert.deepEqual([ka.maxIter, ka.tol], [10, 1e-5]);
    assert.deepEqual(ka.models.map((m) => m.weight), [1, 1]);
  });

  it("takes each method's own keys", () => {
    const r = parse(`merge_method: karcher\nbase_model: b\n${models("x", "y")}parameters: {max_iter: 5, tol: 1.0e-6}\n`);
    assert.deepEqual([r.maxIter, r.tol], [5, 1e-6]);
    const n = parse(`merge_method: nearswap\nbase_model: b\n${models("x")}parameters: {t: 0.0001}\n`);
    assert.equal(n.t, 0.0001);
    const s = parse(`merge_method: sce\nbase_model: b\n${models("x", "y")}parameters: {select_topk: 0.1, int8_mask: true}\n`);
    assert.equal(s.selectTopk, 0.1);
  });

  it("notes keys that do nothing for the method, as for the older methods", () => {
    const r = parse(`merge_method: sce\nbase_model: b\n${weighted(["x", 2])}parameters: {select_topk: 0.5, max_iter: 3, normalize: true, t: 0.2}\n`);
    const notes = r.notes.join("\n");
    assert.match(notes, /`weight` has no effect on sce/);
    assert.match(notes, /`max_iter` is a karcher parameter; it has no effect on sce/);
    assert.match(notes, /`normalize` has no effect on sce/);
    assert.match(notes, /`t` is a slerp \/ nearswap parameter/);
    assert.equal(r.maxIter, 10, "another method's key keeps mergekit's default");
  });
});

describe("mergekit's errors for the newer methods", () => {
  const cases: [string, string, RegExp][] = [
    ["sce without base", `merge_method: sce\n${models("x", "y")}`, /base_model.*required for merge_method `sce`/],
    ["arcee_fusion without base", `merge_method: arcee_fusion\n${models("x")}`, /base_model.*required for merge_method `arcee_fusion`/],
    ["nuslerp with three models", `merge_method: nuslerp\n${weighted(["x", 1], ["y", 1], ["z", 1])}`, /models.*nuslerp merges exactly two models; found 3/],
    ["nuslerp whose base is one of the models", `merge_method: nuslerp\nbase_model: x\n${weighted(["x", 1], ["y", 1])}`, /models\[0\]\.model.*base model cannot be one of them/],
    ["arcee_fusion with two models", `merge_method: arcee_fusion\nbase_model: b\n${models("x", "y")}`, /arcee_fusion merges base_model with exactly one other model; found 2/],
    ["nearswap without t", `merge_method: nearswap\nbase_model: b\n${models("x")}`, /parameters\.t.*required for nearswap \(no default\)/],
    ["select_topk out of range", `merge_method: sce\nbase_model: b\n${models("x")}parameters: {select_topk: 1.5}\n`, /parameters\.select_topk.*expected a number in \[0, 1\], got 1\.5/],
    ["max_iter not an integer", `merge_method: karcher\n${models("x", "y")}parameters: {max_iter: 2.5}\n`, /parameters\.max_iter.*expected an integer in \[0, 100000\]/],
    ["negative eps", `merge_method: multislerp\n${weighted(["x", 1])}parameters: {eps: -1}\n`, /parameters\.eps.*expected a number >= 0/],
    ["nuslerp_flatten not a boolean", `merge_method: nuslerp\n${weighted(["x", 1], ["y", 1])}parameters: {nuslerp_flatten: "no"}\n`, /parameters\.nuslerp_flatten.*expected true or false/],
  ];
  for (const [name, text, re] of cases) it(name, () => assert.match(parseError(text).message, re));

  it("still refuses the mergekit methods MergeScope does not run, by name", () => {
    assert.match(parseError(`merge_method: ramplus_tl\nbase_model: b\n${models("x")}`).message, /`ramplus_tl` is not supported by MergeScope yet/);
  });
});

describe("base model entries", () => {
  it("karcher averages a listed base model once; multislerp and sce leave it out", () => {
    const k = parse(`merge_method: karcher\nbase_model: b\n${models("b", "x")}`);
    assert.deepEqual(k.models.map((m) => m.source), ["x"]);
    assert.match(k.notes.join("\n"), /karcher averages the base model once/);
    const m = parse(`merge_method: multislerp\nbase_model: b\n${weighted(["b", 1], ["x", 1], ["y", 1])}`);
    assert.deepEqual(m.models.map((x) => x.source), ["x", "y"]);
    assert.equal(parse(`merge_method: sce\nbase_model: b\n${models("b", "x", "y")}`).models.length, 2);
  });

  it("one model: multislerp (and karcher without base) return it unchanged, with a note", () => {
    assert.match(parse(`merge_method: multislerp\n${weighted(["x", 1])}`).notes.join("\n"), /multislerp with one model returns that model unchanged/);
    assert.match(parse(`merge_method: karcher\n${models("x")}`).notes.join("\n"), /karcher with one model returns that model unchanged/);
  });
});

describe("YAML round trip and model card", () => {
  const recipes = [
    `merge_method: sce\nbase_model: b\n${models("x", "y", "z")}parameters: {select_topk: 0.25}\ndtype: float32\nout_dtype: bfloat16\n`,
    `merge_method: nuslerp\nbase_model: b\n${weighted(["x", 0.7], ["y", 0.3])}parameters: {nuslerp_flatten: false, nuslerp_row_wise: true}\n`,
    `merge_method: multislerp\n${weighted(["x", 1], ["y", 2], ["z", 3])}parameters: {normalize_weights: false, eps: 1.0e-6}\n`,
    `merge_method: karcher\nbase_model: b\n${models("x", "y")}parameters: {max_iter: 3, tol: 0.001}\n`,
    `merge_method: arcee_fusion\nbase_model: b\n${models("x")}`,
    `merge_method: nearswap\nbase_model: b\n${models("x")}parameters: {t: 0.002}\n`,
  ];
  for (const text of recipes) {
    const r = parse(text);
    it(`${r.method}: recipe → YAML → recipe keeps every value`, () => {
      const yaml = recipeToYaml(r, { paths: "as-written" });
      const back = parse(yaml);
      assert.deepEqual({ ...back, notes: [], sourceText: null }, { ...r, notes: [], sourceText: null });
      assert.deepEqual(back.notes, [], `the written YAML holds only keys ${r.method} reads:\n${yaml}`);
      const doc = parseYaml(yaml) as { parameters?: Record<string, unknown> };
      assert.equal(doc.parameters?.normalize, undefined, "no normalize / lambda for these methods");
    });
  }

  it("the model card names the model-order rule for sce and multislerp with 3+ models", () => {
    const r = parse(recipes[0]!);
    const stats = buildStatsReport(request(r), { tensors: [], shards: [], indexFile: null, warnings: [], bytesRead: 0, bytesWritten: 0, seconds: 0, slackBudget: null, sweep: null });
    const card = buildModelCard({ title: "m", recipe: r, stats, engineVersion: "test" });
    assert.match(card, /SCE \(select by variance/);
    assert.match(card, /\*\*Model order\.\*\* mergekit sce orders its models by Python set order.*MergeScope uses the recipe order/);
    assert.deepEqual(stats.models.map((m) => m.density), [0.25, 0.25, 0.25], "sce's select_topk is every model's density in the report");
    const two = parse(`merge_method: sce\nbase_model: b\n${models("x", "y")}`);
    assert.doesNotMatch(buildModelCard({ title: "m", recipe: two, stats, engineVersion: "t" }), /Model order/);
  });
});
