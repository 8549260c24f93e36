// TIES-SV's lost-election margins in `mergescope analyze --json` and the Node API: the whole
// model's histogram sums to the candidates (the SFT entries that lost the sign election) and its
// reserved part to the reserve; the cut separates reserved from kept margins; TIES reports none.
// (The per-element check of the bins and the cut is native/tests/test_margins.cc.)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { before, describe, it } from "node:test";
import { analyze } from "@/server/engine/merge";
import { parseRecipeYaml } from "@/server/engine/recipe";
import { MARGIN_BINS, marginBinOf, type StatsReport } from "@/server/engine/stats";
import { tinyFamily } from "../jobs/helpers";
import { nativeMergeSkipReason, tempDir } from "./helpers";

const skip = nativeMergeSkipReason();
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function cli(...args: string[]) {
  return spawnSync(process.execPath, ["bin/mergescope.mjs", ...args], { encoding: "utf8", timeout: 120_000 });
}

function recipe(method: "ties" | "ties_sv", extra = ""): string {
  return [
    `merge_method: ${method}`,
    "base_model: ./base",
    "models:",
    `  - model: ./sft\n    parameters: {weight: 1.0, density: 0.2${method === "ties_sv" ? ", favored: true" : ""}}`,
    "  - model: ./ct-2B\n    parameters: {weight: 1.0, density: 1.0}",
    extra,
  ].join("\n");
}

describe("lost-election margins", { skip }, () => {
  let family: string;
  before(() => {
    const root = tempDir({ after: (fn) => process.on("exit", fn) }, "ms-margins-");
    family = path.join(root, "family");
    tinyFamily(family, { ctCheckpoints: 1, hidden: 128, vocab: 1024 });
  });

  it("should print the model's margin histogram and slack cut in analyze --json (model scope)", () => {
    const file = path.join(family, "sv.yml");
    writeFileSync(file, recipe("ties_sv", "parameters: {slack: 0.04}"));
    const r = cli("analyze", file, "--json", "--threads", "2");
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as StatsReport;
    const m = report.margins!;
    assert.ok(m, "ties_sv reports margins");
    assert.equal(m.edges.length, 61);
    assert.equal(m.candidates.length, MARGIN_BINS);
    assert.equal(m.reserved.length, MARGIN_BINS);
    assert.ok(Math.abs(m.edges[0]! - 1e-9) < 1e-15 && Math.abs(m.edges[60]! - 10) < 1e-5);
    // sums: every lost election of the SFT model, and the reserve
    assert.ok(report.totals.sv_candidates > 0);
    assert.equal(sum(m.candidates), report.totals.sv_candidates);
    assert.equal(m.n_candidates, report.totals.sv_candidates);
    assert.equal(sum(m.reserved), report.totals.sv_reserved);
    assert.equal(m.n_reserved, report.slack_budget, "the budget R is reserved (R < candidates here)");
    assert.equal(report.totals.rescued[0], m.n_reserved);
    m.reserved.forEach((x, b) => assert.ok(x <= m.candidates[b]!, `bin ${b}`));
    // the cut: every bin below the cut's bin wholly reserved, every bin above it not at all
    assert.notEqual(m.cut, null);
    const cb = marginBinOf(m.edges, m.cut!);
    for (let b = 0; b < MARGIN_BINS; b++) {
      if (b < cb) assert.equal(m.reserved[b], m.candidates[b], `bin ${b} below the cut`);
      if (b > cb) assert.equal(m.reserved[b], 0, `bin ${b} above the cut`);
    }
    assert.ok(m.taken_at_cut! <= m.at_cut!);
    // the same report from the Node API, one thread
    return analyze(parseRecipeYaml(recipe("ties_sv", "parameters: {slack: 0.04}"), { recipeDir: family }), { threads: 1 }).then((one) => {
      assert.deepEqual(one.margins, m, "thread-count independent");
    });
  });

  it("should report tensor scope without a single cut, and TIES without margins", async () => {
    const sv = await analyze(parseRecipeYaml(recipe("ties_sv", "parameters: {slack: 0.1, slack_scope: tensor}"), { recipeDir: family }));
    const m = sv.margins!;
    assert.equal(m.cut, null);
    assert.equal(m.at_cut, null);
    assert.equal(sum(m.candidates), sv.totals.sv_candidates);
    assert.equal(sum(m.reserved), sv.totals.sv_reserved);
    assert.ok(m.n_reserved > 0);
    const ties = await analyze(parseRecipeYaml(recipe("ties"), { recipeDir: family }));
    assert.equal(ties.margins, null);
    // TIES-SV's candidates are the SFT entries TIES discards by its election at the same densities (weights 1)
    assert.equal(m.n_candidates, ties.totals.discarded[0]);
  });
});
