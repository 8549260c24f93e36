// Public shapes of the analysis charts (Figures 2–4 of Tao et al., 2024, the
// discard heatmap, the density explorer and the TIES vs TIES-SV comparison).
// Pure zod: the browser imports the types (and the selection helpers built on them).
import { z } from "zod";

export const SPLITS = ["dev", "test"] as const;
export const splitSchema = z.enum(SPLITS);
export type ChartSplit = z.infer<typeof splitSchema>;

/**
 * Methods whose trim and sign election the sweep statistics describe (Figures 3–4). sce trims
 * every model by one select_topk, stored as each model's density: its points sit at the
 * density pair (select_topk, select_topk). della trims each model at random by its density
 * (keep probabilities rising with magnitude rank), then elects as TIES does.
 */
export const ELECTION_METHODS = ["ties", "ties_sv", "sce", "della"] as const;
export type ElectionMethod = (typeof ELECTION_METHODS)[number];

export const modelRefSchema = z.object({ id: z.string(), name: z.string(), path: z.string(), role: z.string() });
export type ModelRef = z.infer<typeof modelRefSchema>;

/** A CT checkpoint of the experiment, placed on the x axis by its token count. */
export const checkpointSchema = z.object({
  modelId: z.string(),
  name: z.string(),
  path: z.string(),
  /** Absolute count of continual-training tokens (null: unknown — the checkpoint cannot be placed). */
  ctTokens: z.number().nullable(),
  /** ctTokens in billions (the axis unit). */
  tokensB: z.number().nullable(),
  /** "2B", "12.4B" — or the model name when the count is unknown. */
  label: z.string(),
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

/** One model's counters of one analysis (sums over all tensors; see server/engine/stats/report.ts). */
export const modelCountsSchema = z.object({
  k: z.number(),
  nnzTrimmed: z.number(),
  discarded: z.number(),
  discardedL1: z.number(),
  rescued: z.number(),
  conflictsWon: z.number(),
  inConflict: z.number(),
  contributing: z.number(),
});
export type ModelCounts = z.infer<typeof modelCountsSchema>;

/** One Analysis row (one checkpoint × method × density pair), reduced to what the charts need. */
export const sweepPointSchema = z.object({
  analysisId: z.string(),
  jobId: z.string().nullable(),
  method: z.enum(ELECTION_METHODS),
  checkpointId: z.string(),
  /** Positions of the SFT and the CT model in the recipe (and in the stored per-model arrays). */
  sftIndex: z.number(),
  ctIndex: z.number(),
  sftDensity: z.number(),
  ctDensity: z.number(),
  slack: z.number().nullable(),
  slackScope: z.string().nullable(),
  sft: modelCountsSchema,
  ct: modelCountsSchema,
  numel: z.number(),
  signConflicts: z.number(),
  svCandidates: z.number(),
  svReserved: z.number(),
  slackBudget: z.number().nullable(),
  createdAt: z.date(),
});
export type SweepPoint = z.infer<typeof sweepPointSchema>;

export const skippedAnalysisSchema = z.object({ analysisId: z.string(), method: z.string(), reason: z.string() });

export const sweepStatsSchema = z.object({
  experiment: z.object({ id: z.string(), name: z.string(), language: z.string() }),
  base: modelRefSchema.nullable(),
  sft: modelRefSchema.nullable(),
  /** The experiment's CT checkpoints, ascending token count (unknown counts last). */
  checkpoints: z.array(checkpointSchema),
  /** The distinct grid values over all points: the explorer's slider stops. */
  grid: z.object({ sft: z.array(z.number()), ct: z.array(z.number()), slack: z.array(z.number()) }),
  methods: z.array(z.enum(ELECTION_METHODS)),
  points: z.array(sweepPointSchema),
  /** Analyses that mention the experiment's models but cannot be placed (with why). */
  skipped: z.array(skippedAnalysisSchema),
  /** Analyze jobs of the experiment that are still queued or running. */
  pendingJobs: z.number(),
});
export type SweepStats = z.infer<typeof sweepStatsSchema>;

// ---------- heatmap ----------

export const heatmapCellSchema = z.object({
  layer: z.number().nullable(),
  module: z.string(),
  tensors: z.number(),
  numel: z.number(),
  nnzTrimmed: z.number(),
  discarded: z.number(),
  rescued: z.number(),
  /** discarded / nnzTrimmed of the SFT model, in %; null when it has no trimmed entries there. */
  pct: z.number().nullable(),
});
export type HeatmapCell = z.infer<typeof heatmapCellSchema>;

export const heatmapSchema = z.object({
  analysisId: z.string(),
  method: z.string(),
  densities: z.array(z.number()),
  sftIndex: z.number(),
  sftPath: z.string(),
  /** Ascending; null (embeddings, final norm, LM head) last. */
  layers: z.array(z.number().nullable()),
  modules: z.array(z.string()),
  cells: z.array(heatmapCellSchema),
  total: z.object({ nnzTrimmed: z.number(), discarded: z.number(), pct: z.number().nullable() }),
});
export type Heatmap = z.infer<typeof heatmapSchema>;

// ---------- Figure 2 (scores) ----------

export const scorePointSchema = z.object({
  checkpointId: z.string().nullable(),
  tokensB: z.number(),
  value: z.number(),
  modelId: z.string().nullable(),
  modelName: z.string(),
  /** Average over only some of the language's benchmarks. */
  partial: z.boolean(),
  detail: z.string().nullable(),
  /** Merge points: the merge job (its own analysis gives the SFT discard rate). */
  jobId: z.string().nullable().optional(),
});
export type ScorePoint = z.infer<typeof scorePointSchema>;

export const scoreSeriesSchema = z.object({
  key: z.string(),
  /** Key of the series' value in `rows` (s0, s1, …: safe as a chart dataKey). */
  dataKey: z.string(),
  /** Legend name: CT, CTSFT, TIES (k=0.2/1), TIES-SV (k=0.2/1, slack 0.04), WAVG … */
  label: z.string(),
  /** CT | CTSFT | ties | ties_sv | linear | task_arithmetic */
  family: z.string(),
  densities: z.array(z.number()).nullable(),
  /** The paper's densities (SFT 0.2, CT 1.0) or no trimming at all. */
  paperDensities: z.boolean(),
  points: z.array(scorePointSchema),
});
export type ScoreSeries = z.infer<typeof scoreSeriesSchema>;

export const scoreReferenceSchema = z.object({
  key: z.string(),
  label: z.string(),
  value: z.number().nullable(),
  modelName: z.string().nullable(),
  partial: z.boolean(),
});

export const figure2Schema = z.object({
  experimentId: z.string(),
  language: z.string(),
  split: splitSchema,
  /** "avg" or a task name. */
  task: z.string(),
  /** What the y value is, e.g. "Telugu average over SIB-200, Belebele, MGSM (acc, %)". */
  scoreLabel: z.string(),
  tasks: z.array(z.object({ task: z.string(), label: z.string() })),
  series: z.array(scoreSeriesSchema),
  /** Chart rows: one per CT token count, `tokensB`, `label`, and each series' value under its dataKey. */
  rows: z.array(z.record(z.string(), z.union([z.number(), z.string(), z.null()]))),
  references: z.array(scoreReferenceSchema),
  /** The paper's reported numbers for the language (final checkpoint), as reference lines. */
  paper: z.array(z.object({ label: z.string(), method: z.string(), value: z.number(), source: z.string() })),
  paperNote: z.string().nullable(),
  /** How many Score rows the experiment's models (and merges) have in this split / in any split. */
  scoreCount: z.number(),
  scoreCountAnySplit: z.number(),
  /** Finished merges of the experiment's checkpoints, with or without scores. */
  mergeCount: z.number(),
  /** Per series (3+ points): where the score stops improving, and the SFT discard rate there and at the last checkpoint. */
  saturation: z.array(
    z.object({
      key: z.string(),
      label: z.string(),
      tokensB: z.number().nullable(),
      value: z.number().nullable(),
      discardAt: z.number().nullable(),
      discardLast: z.number().nullable(),
      discardKeptRising: z.boolean().nullable(),
    }),
  ),
});
export type Figure2Data = z.infer<typeof figure2Schema>;

// ---------- TIES vs TIES-SV ----------

export const compareGroupSchema = z.object({
  key: z.string(),
  label: z.string(),
  nnzTrimmed: z.number(),
  discardedTies: z.number().nullable(),
  discardedSv: z.number().nullable(),
  rescued: z.number().nullable(),
  svCandidates: z.number().nullable(),
  svReserved: z.number().nullable(),
  /** Shares of the group's trimmed SFT parameters (%): discarded by TIES, by TIES-SV, and rescued by the slack. */
  discardedTiesPct: z.number().nullable(),
  discardedSvPct: z.number().nullable(),
  rescuedPct: z.number().nullable(),
});
export type CompareGroup = z.infer<typeof compareGroupSchema>;

const compareSideSchema = z.object({
  analysisId: z.string(),
  jobId: z.string().nullable(),
  slack: z.number().nullable(),
  slackScope: z.string().nullable(),
  sft: modelCountsSchema,
  ct: modelCountsSchema,
  discardedPct: z.number().nullable(),
  svCandidates: z.number(),
  svReserved: z.number(),
  slackBudget: z.number().nullable(),
});

const recipeSourceSchema = z.object({ kind: z.enum(["merge", "analyze"]), jobId: z.string(), yaml: z.string(), outputPath: z.string().nullable() });

/** The SFT model's lost-election margins of the compared TIES-SV analysis (services/charts/margins.ts). */
export const marginChartSchema = z.object({
  analysisId: z.string(),
  slack: z.number().nullable(),
  slackScope: z.string().nullable(),
  slackBudget: z.number().nullable(),
  nCandidates: z.number(),
  nReserved: z.number(),
  /** Model scope: reserved = every candidate with margin < cut, and takenAtCut of the atCut with margin == cut; null in tensor scope. */
  cut: z.number().nullable(),
  atCut: z.number().nullable(),
  takenAtCut: z.number().nullable(),
  /** The engine bin that holds the cut (null: no cut). */
  cutBin: z.number().nullable(),
  /** The engine's fixed bins from the first to the last non-empty one: margins in [lo, hi) (bin 0: exactly 0; hi null: no upper edge). */
  bins: z.array(z.object({ bin: z.number(), label: z.string(), lo: z.number(), hi: z.number().nullable(), candidates: z.number(), reserved: z.number(), notReserved: z.number() })),
});
export type MarginChart = z.infer<typeof marginChartSchema>;

export const compareSchema = z.object({
  experiment: z.object({ id: z.string(), name: z.string(), language: z.string() }),
  checkpoint: checkpointSchema,
  sftDensity: z.number(),
  ctDensity: z.number(),
  slack: z.number().nullable(),
  /** Slack values of the TIES-SV analyses at this checkpoint and densities. */
  slackOptions: z.array(z.number()),
  ties: compareSideSchema.nullable(),
  tiesSv: compareSideSchema.nullable(),
  byLayer: z.array(compareGroupSchema),
  byModule: z.array(compareGroupSchema),
  split: splitSchema,
  scores: z.array(z.object({ task: z.string(), label: z.string(), ties: z.number().nullable(), tiesSv: z.number().nullable(), diff: z.number().nullable() })),
  recipes: z.object({ ties: z.array(recipeSourceSchema), tiesSv: z.array(recipeSourceSchema) }),
  /** The TIES-SV analysis's lost-election margins with the slack cut (null: no TIES-SV analysis, or one stored before margins existed). */
  margins: marginChartSchema.nullable(),
});
export type CompareData = z.infer<typeof compareSchema>;
