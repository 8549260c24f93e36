// Kind `cli` golden cases (tiny Llama folders + recipes, test/fixtures/golden/README.md
// "Layout of kind cli"): loading, the planner's effective values against mergekit's
// `effective_parameters`, and comparing a merged folder with the expected files.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { loadRecipeFile } from "@/server/engine/recipe";
import { buildMergePlan, type MergePlan } from "@/server/engine/plan/build";
import type { Recipe } from "@/server/engine/recipe";
import { roundTo, type FloatDType } from "@/server/engine/dtype";
import { openCheckpoint, readHeader, readSafetensors } from "@/test/support/safetensors";
import { caseDir } from "./helpers";

export const RECIPE_FILES = [
  { recipe: "recipe.yml", expected: "expected.safetensors", config: "expected_config.json", mode: "f32" as const },
  { recipe: "recipe_native.yml", expected: "expected_native.safetensors", config: "expected_native_config.json", mode: "native" as const },
];

export interface EffectiveRow {
  tensor: string;
  inputs: [string, string][];
  global: Record<string, number | boolean | null>;
  per_model: Record<string, Record<string, number | null>>;
  base_model?: string;
}

export interface CliCase {
  id: string;
  method: string;
  models: Record<string, { dir: string; vocab_size: number; num_hidden_layers: number }>;
  effective_parameters: EffectiveRow[];
  output_num_hidden_layers: number;
  output_vocab_size: number;
}

export function loadCliCase(id: string): CliCase {
  return JSON.parse(readFileSync(path.join(caseDir(id), "case.json"), "utf8")) as CliCase;
}

export function loadCliRecipe(id: string, file: string): Promise<Recipe> {
  return loadRecipeFile(path.join(caseDir(id), file));
}

/** The plan from the safetensors headers alone (no native engine). */
export function planFromHeaders(recipe: Recipe): MergePlan {
  return buildMergePlan(recipe, (p) => readHeader(path.join(p, "model.safetensors")).tensors.map((t) => t.name).sort());
}

/** Role of each model folder (`models/<role>`), by absolute path. */
export function rolesByPath(c: CliCase): Map<string, string> {
  return new Map(Object.entries(c.models).map(([role, m]) => [path.join(caseDir(c.id), m.dir), role]));
}

/**
 * Bytes of every tensor of `outDir` against the expected file. `skip` (tensor → positions)
 * exempts elements whose value depends on the top-k tie order. Returns the number of skipped
 * elements that differ (0 means bit-exact everywhere).
 */
export function assertSameTensors(id: string, outDir: string, expectedFile: string, skip?: Map<string, Uint8Array>): number {
  const e = readSafetensors(path.join(caseDir(id), expectedFile));
  const a = openCheckpoint(outDir);
  assert.deepEqual(a.tensorNames().sort(), e.tensorNames().sort(), `${id}: tensor names`);
  let skippedDiffer = 0;
  for (const name of e.tensorNames()) {
    const x = e.readTensor(name);
    const y = a.readTensor(name);
    assert.equal(y.dtype, x.dtype, `${id} ${name}: dtype`);
    assert.deepEqual(y.shape, x.shape, `${id} ${name}: shape`);
    const ex = e.readFloat32(name);
    const ay = a.readFloat32(name);
    const mask = skip?.get(name);
    let differ = 0;
    for (let j = 0; j < ex.length; j++) {
      if (Object.is(ex[j], ay[j])) continue;
      if (mask?.[j]) skippedDiffer++;
      else differ++;
    }
    assert.equal(differ, 0, `${id} ${expectedFile} ${name}: ${differ} of ${ex.length} values differ`);
  }
  return skippedDiffer;
}

/** config.json fields the slices/plan decide, against the expected config. */
export function assertConfigLayers(id: string, outDir: string, expectedConfig: string): void {
  const expected = JSON.parse(readFileSync(path.join(caseDir(id), expectedConfig), "utf8")) as Record<string, unknown>;
  const actual = JSON.parse(readFileSync(path.join(outDir, "config.json"), "utf8")) as Record<string, unknown>;
  assert.equal(actual.num_hidden_layers, expected.num_hidden_layers, `${id}: num_hidden_layers`);
  assert.equal(actual.vocab_size, expected.vocab_size, `${id}: vocab_size`);
}

/**
 * Positions of a ties-family output whose value depends on which of several equal |delta|
 * at a model's top-k threshold are kept (README "Tie order"): for each planned model input
 * with density < 1, the elements equal to its k-th largest |delta| when not all of them fit.
 */
export function tieAmbiguousPositions(plan: MergePlan, mode: "f32" | "native"): Map<string, Uint8Array> {
  const files = new Map<string, ReturnType<typeof readSafetensors>>();
  const fileOf = (p: string) => {
    let f = files.get(p);
    if (!f) files.set(p, (f = readSafetensors(path.join(p, "model.safetensors"))));
    return f;
  };
  const out = new Map<string, Uint8Array>();
  for (const t of plan.plan.tensors) {
    if (!t.base) continue;
    const baseFile = fileOf(plan.plan.sources[t.base.source]!);
    const dtype = baseFile.info(t.base.tensor).dtype as FloatDType;
    const b = baseFile.readFloat32(t.base.tensor);
    const mask = new Uint8Array(b.length);
    for (const input of t.inputs) {
      if (input.density >= 1) continue;
      const x = fileOf(plan.plan.sources[input.source]!).readFloat32(input.tensor);
      const mag = new Float32Array(b.length);
      for (let j = 0; j < b.length; j++) {
        const d = Math.fround(x[j]! - b[j]!);
        mag[j] = Math.abs(mode === "native" ? roundTo(dtype, d) : d);
      }
      const k = Math.trunc(input.density * b.length);
      if (k === 0) continue;
      const threshold = Float32Array.from(mag).sort().reverse()[k - 1]!;
      let above = 0;
      let equal = 0;
      for (const m of mag) {
        if (m > threshold) above++;
        else if (m === threshold) equal++;
      }
      if (above + equal === k) continue; // every tied entry is kept: no choice made
      mag.forEach((m, j) => {
        if (m === threshold) mask[j] = 1;
      });
    }
    out.set(t.name, mask);
  }
  return out;
}
