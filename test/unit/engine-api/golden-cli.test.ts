// Kind `cli` golden cases for gradients, filters, slices and passthrough (mergekit 0.1.4's
// CLI output): the planner reproduces mergekit's resolved per-tensor values row by row, and
// merges through the Node API and the `mergescope merge` CLI reproduce the expected tensors
// and config.json's layer count in both compute modes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, it } from "node:test";
import { merge } from "@/server/engine/merge";
import { needsPlan } from "@/server/engine/plan/build";
import { goldenCaseIds } from "../engine/golden-fixtures";
import {
  assertConfigLayers,
  assertSameTensors,
  loadCliCase,
  loadCliRecipe,
  planFromHeaders,
  RECIPE_FILES,
  rolesByPath,
} from "./golden-cli";
import { caseDir, nativeMergeSkipReason, tempDir } from "./helpers";

/** The cli cases this suite covers (tokenizer, LoRA and della cases have their own suites). */
const PLAN_CASES = goldenCaseIds(["ties", "linear", "slerp", "passthrough"], ["cli"]).filter((id) => /gradients|slices|passthrough/.test(id));

describe("cli golden cases: the plan against mergekit's effective_parameters", () => {
  it("should cover the seven gradient / slice / passthrough cases", () => {
    assert.equal(PLAN_CASES.length, 7, PLAN_CASES.join(", "));
  });
  for (const id of PLAN_CASES) {
    it(`should resolve every tensor of ${id} as mergekit does`, async () => {
      const c = loadCliCase(id);
      const recipe = await loadCliRecipe(id, "recipe.yml");
      assert.equal(needsPlan(recipe), true);
      const { plan, numHiddenLayers } = planFromHeaders(recipe);
      assert.equal(numHiddenLayers, c.output_num_hidden_layers);
      const roleOf = rolesByPath(c);
      const role = (source: number) => roleOf.get(plan.sources[source]!)!;
      assert.deepEqual(plan.tensors.map((t) => t.name).sort(), c.effective_parameters.map((r) => r.tensor).sort());
      for (const row of c.effective_parameters) {
        const t = plan.tensors.find((x) => x.name === row.tensor)!;
        const where = `${id} ${row.tensor}`;
        const ours: [string, string][] = [...(t.base ? [[role(t.base.source), t.base.tensor] as [string, string]] : []), ...t.inputs.map((x) => [role(x.source), x.tensor] as [string, string])];
        assert.deepEqual(ours.sort(), [...row.inputs].sort(), `${where}: inputs`);
        if (typeof row.global.lambda === "number") assert.equal(t.lambda, row.global.lambda, `${where}: lambda`);
        if (typeof row.global.t === "number") assert.equal(t.t, row.global.t, `${where}: t`);
        for (const [r, values] of Object.entries(row.per_model ?? {})) {
          const input = t.inputs.find((x) => role(x.source) === r);
          if (!input) {
            assert.equal(r, row.base_model, `${where}: ${r} has parameters but is not an input`);
            continue;
          }
          for (const [key, v] of Object.entries(values)) {
            const actual: number | null | undefined = (input as unknown as Record<string, number | null>)[key];
            assert.equal(actual, v, `${where}: ${r}.${key}`);
          }
        }
      }
    });
  }
});

const skip = nativeMergeSkipReason();

function cli(...args: string[]) {
  return spawnSync(process.execPath, ["bin/mergescope.mjs", ...args], { encoding: "utf8", timeout: 120_000 });
}

for (const via of ["Node API", "CLI"] as const) {
  describe(`cli golden cases through the ${via}`, { skip }, () => {
    for (const id of PLAN_CASES) {
      for (const f of RECIPE_FILES) {
        it(`should reproduce ${id} (${f.recipe} → ${f.expected}) bit for bit`, async (t) => {
          const out = path.join(tempDir(t), "merged");
          if (via === "Node API") {
            const outcome = await merge(await loadCliRecipe(id, f.recipe), out, { threads: 2 });
            // the statistics record the effective values of every tensor
            const embed = outcome.stats.tensors.find((x) => x.name === "model.embed_tokens.weight")!;
            assert.ok(embed.parameters, "effective parameters recorded");
          } else {
            const r = cli("merge", path.join(caseDir(id), f.recipe), out, "--threads", "2");
            assert.equal(r.status, 0, r.stderr);
          }
          // every position, top-k threshold ties included (mergekit's tie order is the default)
          assertSameTensors(id, out, f.expected);
          assertConfigLayers(id, out, f.config);
        });
      }
    }
  });
}
