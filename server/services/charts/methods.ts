// Methods side by side at one CT checkpoint and density pair (issue #16): what TIES, TIES-SV,
// DARE-TIES, breadcrumbs-TIES, DELLA and SCE each do with the SFT model's task vector, per
// module and per layer, from the methods' own stored analyses. Every SFT parameter of a group
// falls in exactly one part:
//   kept       = nnz_trimmed - discarded  (survives the trim and the sign election: enters the merge)
//   discarded  = discarded                (survives the trim, loses the election; TIES-SV: after the rescue)
//   trimmed    = numel - nnz_trimmed      (removed by the method's trim, or a zero delta)
// Shares are of the group's parameter count (numel), so the three add up to 100 %.
import { z } from "zod";
import type { StatsGroup } from "../../engine/stats";
import { AppError } from "../../errors";
import { experimentContext } from "./context";
import { checkpointSchema } from "./schemas";
import { candidateAnalyses, readPairAnalysis, type PairAnalysis } from "./sweep";
import { densityKey, nearest, pct, PAPER_SLACK } from "./sweep-select";

/** The methods compared, in the order they are drawn. */
export const SIDE_BY_SIDE_METHODS = ["ties", "ties_sv", "dare_ties", "breadcrumbs_ties", "della", "sce"] as const;
export const SIDE_BY_SIDE_LABELS: Record<(typeof SIDE_BY_SIDE_METHODS)[number], string> = {
  ties: "TIES",
  ties_sv: "TIES-SV",
  dare_ties: "DARE-TIES",
  breadcrumbs_ties: "breadcrumbs-TIES",
  della: "DELLA",
  sce: "SCE",
};

const partsSchema = z.object({
  numel: z.number(),
  nnzTrimmed: z.number(),
  kept: z.number(),
  discarded: z.number(),
  trimmed: z.number(),
  rescued: z.number(),
  keptPct: z.number().nullable(),
  discardedPct: z.number().nullable(),
  trimmedPct: z.number().nullable(),
});
export type MethodParts = z.infer<typeof partsSchema>;

const groupSchema = z.object({ key: z.string(), label: z.string(), byMethod: z.record(z.string(), partsSchema) });

export const methodsSideBySideSchema = z.object({
  experiment: z.object({ id: z.string(), name: z.string() }),
  checkpoint: checkpointSchema.nullable(),
  checkpoints: z.array(checkpointSchema),
  sftDensity: z.number(),
  ctDensity: z.number(),
  /** Density pairs with an analysis of some compared method at this checkpoint (ascending). */
  pairs: z.array(z.object({ sftDensity: z.number(), ctDensity: z.number(), methods: z.array(z.string()) })),
  /** The compared methods with an analysis at the pair, in drawing order. */
  methods: z.array(
    z.object({
      method: z.string(),
      label: z.string(),
      analysisId: z.string(),
      slack: z.number().nullable(),
      total: partsSchema,
    }),
  ),
  /** Compared methods (their labels) with no analysis at this checkpoint and pair: queue them to see them. */
  missing: z.array(z.string()),
  byModule: z.array(groupSchema),
  byLayer: z.array(groupSchema),
});
export type MethodsSideBySide = z.infer<typeof methodsSideBySideSchema>;

function partsOf(g: StatsGroup, sft: number): MethodParts {
  const numel = g.numel ?? 0;
  const nnzTrimmed = g.nnz_trimmed?.[sft] ?? 0;
  const discarded = g.discarded?.[sft] ?? 0;
  const kept = nnzTrimmed - discarded;
  const trimmed = numel - nnzTrimmed;
  return { numel, nnzTrimmed, kept, discarded, trimmed, rescued: g.rescued?.[sft] ?? 0, keptPct: pct(kept, numel), discardedPct: pct(discarded, numel), trimmedPct: pct(trimmed, numel) };
}

interface Found extends PairAnalysis {
  id: string;
  method: (typeof SIDE_BY_SIDE_METHODS)[number];
  slack: number | null;
}

export async function methodsSideBySide(input: {
  experimentId: string;
  checkpointId?: string | null;
  sftDensity?: number | null;
  ctDensity?: number | null;
  slack?: number | null;
}): Promise<MethodsSideBySide> {
  const ctx = await experimentContext(input.experimentId);
  const placed = ctx.checkpoints.filter((c) => c.tokensB !== null);
  const checkpoint = input.checkpointId ? ctx.checkpoints.find((c) => c.modelId === input.checkpointId) : (placed.at(-1) ?? ctx.checkpoints.at(-1));
  if (input.checkpointId && !checkpoint) throw new AppError("NOT_FOUND", `model ${input.checkpointId} is not a CT checkpoint of experiment '${ctx.experiment.name}'`);
  const sftDensity = densityKey(input.sftDensity ?? 0.2);
  const ctDensity = densityKey(input.ctDensity ?? 1);
  const found: Found[] = [];
  if (checkpoint) {
    for (const row of await candidateAnalyses(ctx, SIDE_BY_SIDE_METHODS)) {
      const read = readPairAnalysis(ctx, row);
      if ("reason" in read || read.pair.checkpoint.modelId !== checkpoint.modelId) continue;
      found.push({ ...read, id: row.id, method: row.method as Found["method"], slack: row.method === "ties_sv" ? row.slack : null });
    }
  }
  const pairs = new Map<string, { sftDensity: number; ctDensity: number; methods: Set<string> }>();
  for (const f of found) {
    const key = `${f.sftDensity}|${f.ctDensity}`;
    const p = pairs.get(key) ?? { sftDensity: f.sftDensity, ctDensity: f.ctDensity, methods: new Set<string>() };
    p.methods.add(f.method);
    pairs.set(key, p);
  }
  const atPair = found.filter((f) => f.sftDensity === sftDensity && f.ctDensity === ctDensity);
  const slack = nearest([...new Set(atPair.flatMap((f) => (f.slack === null ? [] : [f.slack])))].sort((a, b) => a - b), input.slack ?? PAPER_SLACK);
  // Latest analysis per method (rows come oldest first); TIES-SV at the chosen slack.
  const chosen = SIDE_BY_SIDE_METHODS.flatMap((m) => {
    const f = atPair.filter((x) => x.method === m && (m !== "ties_sv" || x.slack === slack)).at(-1);
    return f ? [f] : [];
  });

  const groups = <G extends StatsGroup>(pick: (f: Found) => G[] | undefined, keyOf: (g: G) => string, labelOf: (g: G) => string) => {
    const out = new Map<string, z.infer<typeof groupSchema>>();
    for (const f of chosen) {
      for (const g of pick(f) ?? []) {
        const key = keyOf(g);
        const row = out.get(key) ?? { key, label: labelOf(g), byMethod: {} };
        row.byMethod[f.method] = partsOf(g, f.pair.sftIndex);
        out.set(key, row);
      }
    }
    return [...out.values()];
  };
  const layerLabel = (l: number | null) => (l === null ? "outside layers" : `layer ${l}`);
  return {
    experiment: { id: ctx.experiment.id, name: ctx.experiment.name },
    checkpoint: checkpoint ?? null,
    checkpoints: ctx.checkpoints,
    sftDensity,
    ctDensity,
    pairs: [...pairs.values()]
      .map((p) => ({ sftDensity: p.sftDensity, ctDensity: p.ctDensity, methods: SIDE_BY_SIDE_METHODS.filter((m) => p.methods.has(m)) }))
      .sort((a, b) => a.sftDensity - b.sftDensity || a.ctDensity - b.ctDensity),
    methods: chosen.map((f) => ({ method: f.method, label: SIDE_BY_SIDE_LABELS[f.method], analysisId: f.id, slack: f.slack, total: partsOf(f.stored.totals, f.pair.sftIndex) })),
    missing: SIDE_BY_SIDE_METHODS.filter((m) => !chosen.some((f) => f.method === m)).map((m) => SIDE_BY_SIDE_LABELS[m]),
    byModule: groups((f) => f.stored.byModule, (g) => g.module, (g) => g.module),
    byLayer: groups((f) => f.stored.byLayer, (g) => String(g.layer), (g) => layerLabel(g.layer)),
  };
}
