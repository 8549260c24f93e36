// The home page's way into the experiments: each experiment with its job counts and a
// thumbnail of its Figure 4 (the SFT model's discard rate along the CT tokens, TIES and
// TIES-SV), shaped here so the page only draws it. The demo is marked so it is one click away.
import { z } from "zod";
import { db } from "../../db/client";
import { figure4Rows, indexSweep, type Selection } from "../charts/sweep-select";
import { sweepStats } from "../charts/sweep";

export const experimentOverviewSchema = z.object({
  id: z.string(),
  name: z.string(),
  language: z.string(),
  synthetic: z.boolean(),
  /** The demo created on first start. */
  demo: z.boolean(),
  checkpoints: z.number(),
  jobs: z.object({ queued: z.number(), running: z.number(), done: z.number(), failed: z.number() }),
  /** Figure 4 at the paper's densities (k=0.2/1) when analysed, else at the first analysed pair; null: nothing analysed yet. */
  thumbnail: z
    .object({
      sftDensity: z.number(),
      ctDensity: z.number(),
      points: z.array(z.object({ tokensB: z.number(), label: z.string(), ties: z.number().nullable(), tiesSv: z.number().nullable() })),
    })
    .nullable(),
  createdAt: z.date(),
});
export type ExperimentOverview = z.infer<typeof experimentOverviewSchema>;

const MAX_EXPERIMENTS = 12;
/** k_sft = 0.2, k_ct = 1 (the paper's TIES densities). */
const PAPER_PAIR = [0.2, 1];

export async function experimentOverviews(): Promise<ExperimentOverview[]> {
  const client = await db();
  const select = { id: true, name: true, language: true, synthetic: true, demo: true, createdAt: true, models: { where: { role: "CT" }, select: { modelId: true } } } as const;
  const experiments = await client.experiment.findMany({ orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: MAX_EXPERIMENTS, select });
  // The demo stays one click from the first page however many experiments came after it.
  if (!experiments.some((e) => e.demo)) {
    const demo = await client.experiment.findFirst({ where: { demo: true }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], select });
    if (demo) experiments.push(demo);
  }
  if (experiments.length === 0) return [];
  const jobCounts = await client.job.groupBy({ by: ["experimentId", "status"], where: { experimentId: { in: experiments.map((e) => e.id) } }, _count: { _all: true } });
  const out: ExperimentOverview[] = [];
  for (const e of experiments) {
    const count = (status: string) => jobCounts.find((g) => g.experimentId === e.id && g.status === status)?._count._all ?? 0;
    out.push({
      id: e.id,
      name: e.name,
      language: e.language,
      synthetic: e.synthetic,
      demo: e.demo,
      checkpoints: e.models.length,
      jobs: { queued: count("queued"), running: count("running"), done: count("done"), failed: count("failed") },
      thumbnail: await thumbnail(e.id),
      createdAt: e.createdAt,
    });
  }
  return out;
}

async function thumbnail(experimentId: string): Promise<ExperimentOverview["thumbnail"]> {
  // The paper's pair first: reading only its rows keeps the polled home page cheap for a 720-analysis sweep.
  let stats = await sweepStats(experimentId, { densities: [PAPER_PAIR, [...PAPER_PAIR].reverse()] });
  let tiesPoints = stats.points.filter((p) => p.method === "ties" || p.method === "ties_sv");
  if (tiesPoints.length === 0) {
    stats = await sweepStats(experimentId);
    tiesPoints = stats.points.filter((p) => p.method === "ties" || p.method === "ties_sv");
  }
  if (tiesPoints.length === 0) return null;
  const paper = tiesPoints.find((p) => p.sftDensity === 0.2 && p.ctDensity === 1);
  const first = paper ?? tiesPoints[0]!;
  const sel: Selection = { sftDensity: first.sftDensity, ctDensity: first.ctDensity, slack: null };
  const rows = figure4Rows(indexSweep(stats), sel).filter((r) => r.ties !== null || r.tiesSv !== null);
  return { sftDensity: sel.sftDensity, ctDensity: sel.ctDensity, points: rows.map((r) => ({ tokensB: r.tokensB, label: r.label, ties: r.ties, tiesSv: r.tiesSv })) };
}
