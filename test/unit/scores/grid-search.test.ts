// Appendix B's protocol: among merges that differ only by densities (read from
// each merge job's recipe), the best densities by dev score, and their test score.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { parseRecipeYaml } from "../../../server/engine/recipe";
import { gridSearch, pickBest, recipeSignature } from "../../../server/services/scores/grid-search";
import { importResultsText } from "../../../server/services/scores/import";
import { freshDataDir, registerModel, resultsFile } from "./helpers";

const env = freshDataDir("ms-scores-grid-");
after(() => env.cleanup());

const recipe = (method: string, sft: number, ct: number) =>
  [
    `merge_method: ${method}`,
    "base_model: ./base",
    "models:",
    "  - model: ./sft",
    "    parameters:",
    "      weight: 1.0",
    `      density: ${sft}`,
    ...(method === "ties_sv" ? ["      favored: true"] : []),
    "  - model: ./ct-tam",
    "    parameters:",
    "      weight: 1.0",
    `      density: ${ct}`,
    "parameters:",
    "  normalize: true",
    ...(method === "ties_sv" ? ["  slack: 0.04"] : []),
    "",
  ].join("\n");

// [method, k_sft, k_ct, registered?, dev SIB, dev Belebele, test SIB, test Belebele]
const grid: [string, number, number, boolean, number, number, number, number][] = [
  ["ties", 0.2, 0.8, true, 0.70, 0.30, 0.75, 0.33],
  ["ties", 0.2, 1.0, true, 0.80, 0.36, 0.8039, 0.3653], // best on dev
  ["ties", 0.4, 0.8, true, 0.72, 0.31, 0.85, 0.40], // better on test: must not be picked
  ["ties", 0.4, 1.0, false, 0.78, 0.35, 0.79, 0.35], // not registered: found by path
  ["ties_sv", 0.2, 1.0, true, 0.90, 0.40, 0.81, 0.37], // another method: another grid
];

before(async () => {
  const client = await db();
  const recipeDir = path.join(env.dir, "family");
  mkdirSync(recipeDir, { recursive: true });
  let i = 0;
  for (const [method, sft, ct, registered, ds, db_, ts, tb] of grid) {
    i++;
    const name = `${method}-tam-${sft}-${ct}`;
    let outputPath: string;
    if (registered) outputPath = (await registerModel(env.dir, name, "MERGED", "tam")).path;
    else {
      outputPath = path.join(env.dir, "data", "merges", name);
      mkdirSync(outputPath, { recursive: true });
    }
    await client.job.create({
      data: { type: "merge", version: 1, payload: JSON.stringify({ recipeYaml: recipe(method, sft, ct), recipeDir }), idempotencyKey: `k${i}`, status: "done", outputPath, finishedAt: new Date(Date.now() + i) },
    });
    await importResultsText({ fileName: `${name}-dev.json`, text: resultsFile({ pretrained: outputPath, split: "dev", scores: { sib200_tam_Taml: { "acc,none": ds }, belebele_tam_Taml: { "acc,none": db_ } } }) });
    await importResultsText({ fileName: `${name}-test.json`, text: resultsFile({ pretrained: outputPath, split: "test", scores: { sib200_tam_Taml: { "acc,none": ts }, belebele_tam_Taml: { "acc,none": tb } } }) });
  }
  // A merge that failed is not a candidate.
  await client.job.create({ data: { type: "merge", version: 1, payload: JSON.stringify({ recipeYaml: recipe("ties", 0.6, 1.0), recipeDir }), idempotencyKey: "failed", status: "failed" } });
});

describe("grid search over densities", () => {
  it("should pick the best densities by dev score and report their test score", async () => {
    const r = await gridSearch({ language: "tam" });
    assert.equal(r.score.kind, "language");
    assert.equal(r.groups.length, 2);
    const ties = r.groups.find((g) => g.method === "ties")!;
    assert.equal(ties.candidates.length, 4);
    assert.deepEqual(ties.candidates.map((c) => c.densities), [[0.2, 0.8], [0.2, 1.0], [0.4, 0.8], [0.4, 1.0]]);
    assert.deepEqual(ties.bestDensities, [0.2, 1.0]);
    assert.ok(Math.abs(ties.devScore! - (80 + 36) / 2) < 1e-9);
    assert.ok(Math.abs(ties.testScore! - (80.39 + 36.53) / 2) < 1e-9);
    assert.equal(ties.tie, false);
    assert.deepEqual(ties.candidates.map((c) => c.best), [false, true, false, false]);
    // The unregistered output is found by the path lm-eval wrote as the model name.
    const unregistered = ties.candidates.find((c) => c.modelId === null)!;
    assert.deepEqual(unregistered.densities, [0.4, 1.0]);
    assert.ok(Math.abs(unregistered.devScore! - (78 + 35) / 2) < 1e-9);
    assert.ok(unregistered.devComplete && unregistered.testComplete);
    const sv = r.groups.find((g) => g.method === "ties_sv")!;
    assert.deepEqual(sv.bestDensities, [0.2, 1.0]);
    assert.equal(sv.candidates.length, 1);
  });

  it("should score by one task's primary metric when asked", async () => {
    const r = await gridSearch({ task: "belebele_tam_Taml" });
    const ties = r.groups.find((g) => g.method === "ties")!;
    assert.deepEqual(ties.bestDensities, [0.2, 1.0]);
    assert.ok(Math.abs(ties.testScore! - 36.53) < 1e-9);
    assert.match(r.score.label, /belebele_tam_Taml acc,none/);
  });

  it("should need a language or a task, and a known task", async () => {
    await assert.rejects(gridSearch({}), /choose a language/);
    await assert.rejects(gridSearch({ task: "nope" }), /not in the catalogue/);
  });

  it("should treat only the densities as the grid", () => {
    const a = recipeSignature(parseRecipeYaml(recipe("ties", 0.2, 1.0), { recipeDir: "/r" }));
    const b = recipeSignature(parseRecipeYaml(recipe("ties", 0.4, 0.8), { recipeDir: "/r" }));
    const c = recipeSignature(parseRecipeYaml(recipe("ties_sv", 0.2, 1.0), { recipeDir: "/r" }));
    assert.equal(a.key, b.key);
    assert.notEqual(a.key, c.key);
    assert.deepEqual(b.densities, [0.4, 0.8]);
    const { best, tie } = pickBest([
      { densities: [0.4, 1], devScore: 50 },
      { densities: [0.2, 1], devScore: 50 },
      { densities: [0.01, 1], devScore: null },
    ]);
    assert.deepEqual(best?.densities, [0.2, 1]);
    assert.equal(tie, true);
  });
});
