// The analysis page's whole state, kept in the URL's search params so a copied
// address reproduces the view (experiment, checkpoints, methods, densities,
// task, split and chart options). Defaults are left out of the URL; unknown or
// malformed values fall back to them.
import type { Brushes } from "@/components/charts/types";
import { MERGE_STATISTIC_KEYS, type MergeStatistic } from "@/server/services/charts/merge-statistics";
import { GEOMETRY_GROUPINGS, GEOMETRY_METRICS, type GeometryGrouping, type GeometryMetric } from "./geometry-data";

export const FIG2_FAMILIES = ["CT", "CTSFT", "ties", "ties_sv", "linear", "task_arithmetic"] as const;
export const TABLE_IDS = ["fig2", "fig3", "fig4", "heatmap", "explorer", "stats", "parallel", "geometry"] as const;
export const SCORE_STATISTICS = MERGE_STATISTIC_KEYS;
export type ScoreStatistic = MergeStatistic;
export type TableId = (typeof TABLE_IDS)[number];

export interface AnalysisState {
  experiment: string | null;
  split: "dev" | "test";
  /** "avg" (the language's Table-3 average) or a task name. */
  task: string;
  /** Density pair and slack of Figures 3–4 (null: the paper's 0.2 / 1.0 and 0.04, snapped to the sweep's grid). */
  sft: number | null;
  ct: number | null;
  slack: number | null;
  /** Checkpoints shown (model ids); null = all of the experiment's. */
  ckpts: string[] | null;
  /** Figure 2 series families shown; null = all. */
  methods: string[] | null;
  /** Figure 2 merges: the paper's densities, the explorer's, or every density pair. */
  f2dens: "paper" | "explorer" | "all";
  /** Figure 2: the paper's numbers as reference lines. */
  paper: boolean;
  /** Figure 2: CT tokens on a log axis (series spanning orders of magnitude). */
  xlog: boolean;
  /** Figure 3: stacked area (as the paper) or stacked bars. */
  kind: "area" | "bars";
  /** Heatmap: checkpoint (model id; null = the last) and method. */
  hmCkpt: string | null;
  hmMethod: "ties" | "ties_sv";
  /** Density explorer overview: checkpoint (null = the last) and method. */
  xCkpt: string | null;
  /** Scores against statistics: the statistic on the x axis. */
  stat: ScoreStatistic;
  /** Geometry along the series: panels per module / layer / whole model, and the right axis' statistic. */
  geo: GeometryGrouping;
  geom: GeometryMetric;
  /** Parallel coordinates: brushed axes (URL `pc=tokensB:2:6;method=ties|ties_sv`). */
  pc: Brushes;
  /** Open data tables. */
  tables: TableId[];
}

export const DEFAULT_ANALYSIS_STATE: AnalysisState = {
  experiment: null,
  split: "test",
  task: "avg",
  sft: null,
  ct: null,
  slack: null,
  ckpts: null,
  methods: null,
  f2dens: "paper",
  paper: false,
  xlog: false,
  kind: "area",
  hmCkpt: null,
  hmMethod: "ties",
  xCkpt: null,
  stat: "sftDiscardPct",
  geo: "module",
  geom: "cosine",
  pc: {},
  tables: [],
};

const num01 = (s: string | null): number | null => {
  if (s === null || s.trim() === "") return null;
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : null;
};
const list = (s: string | null): string[] | null => (s === null ? null : s.split(",").filter((x) => x !== ""));
const oneOf = <T extends string>(values: readonly T[], s: string | null): T | null => ((values as readonly string[]).includes(s ?? "") ? (s as T) : null);
const idLike = (s: string | null): string | null => (s && /^[A-Za-z0-9_-]{1,64}$/.test(s) ? s : null);

export function parseAnalysisState(p: URLSearchParams): AnalysisState {
  const d = DEFAULT_ANALYSIS_STATE;
  const tables = (list(p.get("tables")) ?? []).filter((t): t is TableId => (TABLE_IDS as readonly string[]).includes(t));
  const f2 = p.get("f2dens");
  return {
    experiment: idLike(p.get("experiment")),
    split: p.get("split") === "dev" ? "dev" : "test",
    task: p.get("task")?.slice(0, 200) || d.task,
    sft: num01(p.get("sft")),
    ct: num01(p.get("ct")),
    slack: num01(p.get("slack")),
    ckpts: list(p.get("ckpts"))?.map(idLike).filter((x): x is string => x !== null) ?? null,
    methods: list(p.get("methods"))?.filter((m) => (FIG2_FAMILIES as readonly string[]).includes(m)) ?? null,
    f2dens: f2 === "explorer" || f2 === "all" ? f2 : "paper",
    paper: p.get("paper") === "1",
    xlog: p.get("xlog") === "1",
    kind: p.get("kind") === "bars" ? "bars" : "area",
    hmCkpt: idLike(p.get("hm")),
    hmMethod: p.get("hmm") === "ties_sv" ? "ties_sv" : "ties",
    xCkpt: idLike(p.get("xc")),
    geo: oneOf(GEOMETRY_GROUPINGS, p.get("geo")) ?? d.geo,
    geom: oneOf(GEOMETRY_METRICS, p.get("geom")) ?? d.geom,
    pc: parseBrushes(p.get("pc")),
    stat: (SCORE_STATISTICS as readonly string[]).includes(p.get("stat") ?? "") ? (p.get("stat") as ScoreStatistic) : d.stat,
    tables,
  };
}

export function serializeAnalysisState(s: AnalysisState): URLSearchParams {
  const p = new URLSearchParams();
  const d = DEFAULT_ANALYSIS_STATE;
  if (s.experiment) p.set("experiment", s.experiment);
  if (s.split !== d.split) p.set("split", s.split);
  if (s.task !== d.task) p.set("task", s.task);
  if (s.sft !== null) p.set("sft", String(s.sft));
  if (s.ct !== null) p.set("ct", String(s.ct));
  if (s.slack !== null) p.set("slack", String(s.slack));
  if (s.ckpts !== null) p.set("ckpts", s.ckpts.join(","));
  if (s.methods !== null) p.set("methods", s.methods.join(","));
  if (s.f2dens !== d.f2dens) p.set("f2dens", s.f2dens);
  if (s.paper) p.set("paper", "1");
  if (s.xlog) p.set("xlog", "1");
  if (s.kind !== d.kind) p.set("kind", s.kind);
  if (s.hmCkpt) p.set("hm", s.hmCkpt);
  if (s.hmMethod !== d.hmMethod) p.set("hmm", s.hmMethod);
  if (s.xCkpt) p.set("xc", s.xCkpt);
  if (s.stat !== d.stat) p.set("stat", s.stat);
  if (s.geo !== d.geo) p.set("geo", s.geo);
  if (s.geom !== d.geom) p.set("geom", s.geom);
  const pc = serializeBrushes(s.pc);
  if (pc) p.set("pc", pc);
  if (s.tables.length) p.set("tables", [...s.tables].sort().join(","));
  return p;
}

/** The compare page's URL for one checkpoint at the selected densities. */
export function compareHref(s: { experiment: string; checkpointId: string; sft: number; ct: number; slack: number | null; split: "dev" | "test" }): string {
  const p = new URLSearchParams({ experiment: s.experiment, ckpt: s.checkpointId, sft: String(s.sft), ct: String(s.ct) });
  if (s.slack !== null) p.set("slack", String(s.slack));
  if (s.split !== "test") p.set("split", s.split);
  return `/analysis/compare?${p.toString()}`;
}

const BRUSH_KEY = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;

/** `tokensB:2:6;method=ties|ties_sv` → brushes (malformed parts are dropped). */
export function parseBrushes(text: string | null): Brushes {
  const out: Brushes = {};
  for (const part of (text ?? "").split(";").slice(0, 20)) {
    const set = /^([^=:]+)=(.*)$/.exec(part);
    if (set && BRUSH_KEY.test(set[1]!)) {
      out[set[1]!] = { kind: "set", values: set[2]!.split("|").filter((v) => v !== "").slice(0, 50) };
      continue;
    }
    const [key, lo, hi] = part.split(":");
    const a = Number(lo);
    const b = Number(hi);
    if (key && BRUSH_KEY.test(key) && lo !== undefined && hi !== undefined && lo !== "" && hi !== "" && Number.isFinite(a) && Number.isFinite(b)) out[key] = { kind: "range", lo: Math.min(a, b), hi: Math.max(a, b) };
  }
  return out;
}

export function serializeBrushes(b: Brushes): string {
  return Object.keys(b)
    .sort()
    .map((k) => {
      const x = b[k]!;
      return x.kind === "set" ? `${k}=${x.values.join("|")}` : `${k}:${Number(x.lo.toPrecision(6))}:${Number(x.hi.toPrecision(6))}`;
    })
    .join(";");
}
