// buildStatsReport on a hand-made engine result: per-tensor fields, totals, byLayer and
// byModule sums, and the text/Markdown summaries built from it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildStatsReport, discardedPercent, formatStatsSummary, PER_MODEL_FIELDS } from "@/server/engine/stats";
import type { NativeMergeResult, NativeModelTensorStats, NativeTensorStats } from "@/server/engine/types";

function modelStats(seed: number, trimmed: boolean): NativeModelTensorStats {
  return {
    weight: 1,
    density: trimmed ? 0.2 : 1,
    trimmed,
    k: 10 * seed,
    threshold: trimmed ? seed / 100 : null,
    nGreaterThanThreshold: 9 * seed,
    nEqualToThreshold: seed,
    nKeptAtThreshold: seed,
    nnzTrimmed: 10 * seed,
    discarded: seed,
    discardedL1: seed / 10,
    rescued: seed % 2,
    contributing: 9 * seed,
    inConflict: 2 * seed,
    conflictsWon: seed + 1, nTopRemoved: 0, topThreshold: null, rescaleFactor: null, randomFirstDraw: null, randomDraws: 0, keepProbabilityMin: null, keepProbabilityMax: null,
  };
}

function tensor(name: string, numel: number, seed: number): NativeTensorStats {
  return {
    name,
    shape: [numel],
    dtype: "BF16",
    numel,
    rowCut: false,
    signConflicts: seed * 3,
    noContributor: seed,
    majorityNegative: seed * 5,
    svCandidates: seed * 2,
    svReserved: seed, interpolationT: null,
    models: [modelStats(seed, true), modelStats(seed + 1, false)],
  };
}

const result: NativeMergeResult = {
  tensors: [
    tensor("lm_head.weight", 400, 7),
    tensor("model.embed_tokens.weight", 400, 1),
    tensor("model.layers.0.mlp.down_proj.weight", 100, 2),
    tensor("model.layers.0.self_attn.q_proj.weight", 50, 3),
    tensor("model.layers.1.self_attn.q_proj.weight", 50, 4),
    tensor("model.layers.10.self_attn.q_proj.weight", 50, 5),
  ],
  shards: [],
  indexFile: null,
  warnings: ["embedding rows cut"],
  bytesRead: 0,
  bytesWritten: 0,
  seconds: 0.5,
  slackBudget: 42,
    sweep: null,
};

const source = {
  method: "ties_sv" as const,
  models: [
    { path: "/m/sft", weight: 1, density: 0.2, favored: true, gamma: 0.01, epsilon: 0.15 },
    { path: "/m/ct", weight: 0.5, density: 1, favored: false, gamma: 0.01, epsilon: 0.15 },
  ],
};

describe("buildStatsReport", () => {
  const report = buildStatsReport(source, result, { roles: ["sft", undefined] });

  it("keeps the product's field names", () => {
    assert.deepEqual(Object.keys(report), ["method", "tie_order", "random", "models", "tensors", "totals", "byLayer", "byModule", "warnings", "slack_budget", "margins"]);
    assert.deepEqual([report.tie_order, report.random], ["mergekit", null], "ties_sv ranks by magnitude and draws nothing");
    const t = report.tensors[2]!;
    for (const key of [
      "name",
      "layer",
      "module",
      "numel",
      "shape",
      "k",
      "threshold",
      "n_equal_to_threshold",
      "n_kept_at_threshold",
      "random_first_draw",
      "nnz_trimmed",
      "discarded",
      "discarded_l1",
      "rescued",
      "conflicts_won",
      "in_conflict",
      "contributing",
      "sign_conflicts",
      "n_positions_no_contributor",
      "n_majority_negative",
    ]) {
      assert.ok(key in t, `tensor entry lacks ${key}`);
    }
    assert.deepEqual(report.models, [
      { path: "/m/sft", role: "sft", weight: 1, density: 0.2, favored: true },
      { path: "/m/ct", weight: 0.5, density: 1, favored: false },
    ]);
    assert.equal(report.method, "ties_sv");
    assert.equal(report.slack_budget, 42);
    assert.equal(report.margins, null, "an engine result without margins (hand-made) gives none");
    assert.deepEqual(report.warnings, ["embedding rows cut"]);
  });

  it("converts each tensor's engine counters, per model in recipe order", () => {
    const t = report.tensors.find((x) => x.name === "model.layers.0.mlp.down_proj.weight")!;
    assert.deepEqual(
      { layer: t.layer, module: t.module, numel: t.numel, shape: t.shape },
      { layer: 0, module: "down", numel: 100, shape: [100] },
    );
    assert.deepEqual(t.k, [20, 30]);
    assert.deepEqual(t.threshold, [0.02, null]);
    assert.deepEqual(t.nnz_trimmed, [20, 30]);
    assert.deepEqual(t.discarded, [2, 3]);
    assert.deepEqual(t.discarded_l1, [0.2, 0.3]);
    assert.deepEqual(t.rescued, [0, 1]);
    assert.deepEqual(t.conflicts_won, [3, 4]);
    assert.deepEqual(t.in_conflict, [4, 6]);
    assert.deepEqual(t.contributing, [18, 27]);
    assert.deepEqual([t.sign_conflicts, t.n_positions_no_contributor, t.n_majority_negative, t.sv_candidates, t.sv_reserved], [6, 2, 10, 4, 2]);
  });

  it("sums every counter into totals", () => {
    const seeds = [7, 1, 2, 3, 4, 5];
    const sum = (f: (s: number) => number) => seeds.reduce((a, s) => a + f(s), 0);
    const tot = report.totals;
    assert.equal(tot.tensors, 6);
    assert.equal(tot.numel, 1050);
    assert.equal(tot.sign_conflicts, sum((s) => 3 * s));
    assert.equal(tot.n_positions_no_contributor, sum((s) => s));
    assert.equal(tot.n_majority_negative, sum((s) => 5 * s));
    assert.equal(tot.sv_reserved, sum((s) => s));
    assert.deepEqual(tot.nnz_trimmed, [sum((s) => 10 * s), sum((s) => 10 * (s + 1))]);
    assert.deepEqual(tot.discarded, [sum((s) => s), sum((s) => s + 1)]);
    for (const f of PER_MODEL_FIELDS) {
      for (let i = 0; i < 2; i++) {
        const expected = report.tensors.reduce((a, t) => a + t[f][i]!, 0);
        assert.ok(Math.abs(tot[f][i]! - expected) < 1e-9, `totals.${f}[${i}]`);
      }
    }
  });

  it("groups by layer (numeric order, outside-layer tensors last) and by module", () => {
    assert.deepEqual(
      report.byLayer.map((g) => [g.layer, g.tensors, g.numel, g.sign_conflicts]),
      [
        [0, 2, 150, 15],
        [1, 1, 50, 12],
        [10, 1, 50, 15],
        [null, 2, 800, 24],
      ],
    );
    assert.deepEqual(
      report.byModule.map((g) => [g.module, g.tensors, g.numel]),
      [
        ["embed", 1, 400],
        ["q", 3, 150],
        ["down", 1, 100],
        ["lm_head", 1, 400],
      ],
    );
    assert.deepEqual(report.byLayer[0]!.discarded, [2 + 3, 3 + 4]);
    for (const groups of [report.byLayer, report.byModule]) {
      assert.equal(groups.reduce((a, g) => a + g.numel, 0), report.totals.numel);
      assert.deepEqual(
        [0, 1].map((i) => groups.reduce((a, g) => a + g.contributing[i]!, 0)),
        report.totals.contributing,
      );
    }
  });

  it("rejects a result whose model count differs from the request", () => {
    assert.throws(() => buildStatsReport({ ...source, models: source.models.slice(0, 1) }, result), /has statistics for 2 models, but the request has 1/);
  });

  it("summarises for the terminal", () => {
    assert.equal(discardedPercent(report.totals, 0), (100 * report.totals.discarded[0]!) / report.totals.nnz_trimmed[0]!);
    const text = formatStatsSummary(report, { detail: true }).join("\n");
    assert.match(text, /sft \(favored\)/);
    assert.match(text, /sign conflicts: 66 of 1,050 positions \(6\.29%\); rescued 22 of 44 lost elections of the favored model \(budget 42\)/);
    assert.match(text, /^module\s+sign conflicts/m);
    assert.match(text, /^\(outside layers\)/m);
    assert.match(text, /warning: embedding rows cut/);
    const linear = formatStatsSummary(buildStatsReport({ ...source, method: "linear" }, result)).join("\n");
    assert.doesNotMatch(linear, /sign conflicts|discarded/);
  });
});
