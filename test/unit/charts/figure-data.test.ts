// The browser-side shaping of the figures (components/analysis/figure-data.ts):
// chart rows, legends naming methods and densities, data tables, and the CSV
// that must match the data table cell for cell. Synthetic sweep points: the
// numbers are checked against the counts they were built from.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { csvText, tableCells } from "../../../components/charts/format";
import { explorerView, fig2View, fig3View, fig4View, heatmapView } from "../../../components/analysis/figure-data";
import type { Figure2Data, ModelCounts, SweepPoint, SweepStats } from "../../../server/services/charts/schemas";
import { indexSweep, snapSelection } from "../../../server/services/charts/sweep-select";

const counts = (nnz: number, discarded: number, won: number, rescued = 0): ModelCounts => ({
  k: nnz,
  nnzTrimmed: nnz,
  discarded,
  discardedL1: 0,
  rescued,
  conflictsWon: won,
  inConflict: discarded + won,
  contributing: nnz - discarded,
});

function point(method: "ties" | "ties_sv", ckpt: string, sft: number, ct: number, disc: number, rescued = 0): SweepPoint {
  return {
    analysisId: `${method}-${ckpt}-${sft}-${ct}`,
    jobId: null,
    method,
    checkpointId: ckpt,
    sftIndex: 0,
    ctIndex: 1,
    sftDensity: sft,
    ctDensity: ct,
    slack: method === "ties_sv" ? 0.04 : null,
    slackScope: method === "ties_sv" ? "model" : null,
    sft: counts(1000, disc, 50, rescued),
    ct: counts(5000, 10, disc),
    numel: 5000,
    signConflicts: disc + 50,
    svCandidates: method === "ties_sv" ? disc + rescued : 0,
    svReserved: rescued,
    slackBudget: null,
    createdAt: new Date(0),
  };
}

const checkpoints = ["a", "b", "c"].map((id, i) => ({ modelId: id, name: `ct-${2 * (i + 1)}B`, path: `/m/${id}`, ctTokens: 2e9 * (i + 1), tokensB: 2 * (i + 1), label: `${2 * (i + 1)}B` }));
const points: SweepPoint[] = [];
for (const [i, c] of checkpoints.entries())
  for (const sft of [0.2, 0.5])
    for (const ct of [0.6, 1]) {
      points.push(point("ties", c.modelId, sft, ct, 100 * (i + 1) + sft * 10 + ct));
      points.push(point("ties_sv", c.modelId, sft, ct, 90 * (i + 1), 7));
    }
const sweep: SweepStats = {
  experiment: { id: "e", name: "e", language: "te" },
  base: null,
  sft: null,
  checkpoints,
  grid: { sft: [0.2, 0.5], ct: [0.6, 1], slack: [0.04] },
  methods: ["ties", "ties_sv"],
  points,
  skipped: [],
  pendingJobs: 0,
};
const index = indexSweep(sweep);
const all = () => true;

describe("figure data (browser side)", () => {
  it("should give Figure 4 rows, legend and table from the counts", () => {
    const sel = snapSelection(sweep, {});
    const v = fig4View(index, sel, all);
    assert.deepEqual(v.categories, ["ties", "tiesSv"]);
    assert.equal(v.config.ties!.label, "TIES (k=0.2/1)");
    assert.equal(v.config.tiesSv!.label, "TIES-SV (k=0.2/1, slack 0.04), after rescue");
    assert.deepEqual(v.data.map((r) => r.ties), [(100 * 103) / 1000, (100 * 203) / 1000, (100 * 303) / 1000]);
    const cells = tableCells(v.table);
    assert.deepEqual(cells[0]!.slice(0, 5), ["Checkpoint", "CT tokens (B)", "k_sft", "k_ct", "TIES discarded (%)"]);
    assert.deepEqual(cells[1]!.slice(0, 7), ["2B", "2", "0.2", "1", "10.3000", "103", "1000"]);
    // the CSV is the table, cell for cell
    assert.deepEqual(
      csvText(v.table)
        .trimEnd()
        .split("\n")
        .map((l) => l.split(",")),
      cells,
    );
  });

  it("should follow the selection and the checkpoint filter", () => {
    const v = fig3View(index, { sftDensity: 0.5, ctDensity: 0.6, slack: 0.04 }, (id) => id !== "b");
    assert.deepEqual(v.data.map((r) => r.label), ["2B", "6B"]);
    assert.equal(v.config.electsCt!.label, "Elects CT sign (TIES, k=0.5/0.6)");
    assert.deepEqual(v.data.map((r) => r.electsCt), [(100 * 105.6) / 1000, (100 * 305.6) / 1000]);
    assert.deepEqual(v.data.map((r) => r.electsSft), [5, 5]);
  });

  it("should lay the explorer overview out as SFT rows × CT columns with the selection outlined", () => {
    const v = explorerView(index, sweep.grid, "c", "ties", { sftDensity: 0.5, ctDensity: 1, slack: null });
    assert.deepEqual(v.categories, ["c0", "c1"]);
    assert.deepEqual(v.categories.map(v.columnLabel), ["0.6", "1"]);
    assert.deepEqual(v.selected, { row: 1, key: "c1" });
    assert.equal(v.data[1]!.c1, (100 * 306) / 1000);
    assert.equal(v.table.rows.length, 4);
  });

  it("should name Figure 2 series by method and densities and filter them", () => {
    const f: Figure2Data = {
      saturation: [],
      experimentId: "e",
      language: "te",
      split: "test",
      task: "avg",
      scoreLabel: "x",
      tasks: [],
      series: [
        { key: "CT", dataKey: "s0", label: "CT", family: "CT", densities: null, paperDensities: true, points: [] },
        { key: "ties|0.2|1|", dataKey: "s1", label: "TIES (k=0.2/1)", family: "ties", densities: [0.2, 1], paperDensities: true, points: [] },
        { key: "ties|0.5|1|", dataKey: "s2", label: "TIES (k=0.5/1)", family: "ties", densities: [0.5, 1], paperDensities: false, points: [] },
      ],
      rows: [{ tokensB: 2, label: "2B", s0: 30, s1: 50, s2: null }],
      references: [],
      paper: [],
      paperNote: null,
      scoreCount: 3,
      scoreCountAnySplit: 3,
      mergeCount: 2,
    };
    assert.deepEqual(fig2View(f, { families: null, densities: "paper", sel: null, keepTokens: all }).categories, ["s0", "s1"]);
    const every = fig2View(f, { families: null, densities: "all", sel: null, keepTokens: all });
    assert.deepEqual(every.categories, ["s0", "s1", "s2"]);
    assert.notEqual(every.config.s1!.dash, every.config.s2!.dash, "density variants of one method differ by dash");
    assert.deepEqual(fig2View(f, { families: ["ties"], densities: "explorer", sel: { sftDensity: 0.5, ctDensity: 1, slack: null }, keepTokens: all }).categories, ["s2"]);
  });

  it("should turn heatmap cells into layer rows and a table", () => {
    const v = heatmapView({
      analysisId: "x",
      method: "ties",
      densities: [0.2, 1],
      sftIndex: 0,
      sftPath: "/m/sft",
      layers: [0, null],
      modules: ["q", "embed"],
      cells: [
        { layer: 0, module: "q", tensors: 1, numel: 10, nnzTrimmed: 4, discarded: 1, rescued: 0, pct: 25 },
        { layer: null, module: "embed", tensors: 1, numel: 10, nnzTrimmed: 8, discarded: 2, rescued: 0, pct: 25 },
      ],
      total: { nnzTrimmed: 12, discarded: 3, pct: 25 },
    });
    assert.deepEqual(v.data.map((r) => [r.label, r.q, r.embed]), [
      ["layer 0", 25, null],
      ["outside layers", null, 25],
    ]);
    assert.deepEqual(tableCells(v.table)[2], ["outside layers", "embed", "25.0000", "2", "8", "1"]);
  });
});
