// Stores the statistics of an analysis (Figures 3–4 data): one Analysis row
// with the totals and one TensorStat row per tensor, written inside the
// transaction that marks the analyze job done.
import type { DbTx } from "../../db/client";
import type { StatsReport } from "../../engine/stats";
import { registeredModelIds } from "../models/ids";

export async function saveAnalysis(
  tx: DbTx,
  input: { jobId: string; experimentId: string | null; report: StatsReport; slack: number | null; slackScope: string | null },
): Promise<string> {
  const { report } = input;
  const paths = report.models.map((m) => m.path);
  const analysis = await tx.analysis.create({
    data: {
      jobId: input.jobId,
      experimentId: input.experimentId,
      method: report.method,
      modelPaths: JSON.stringify(paths),
      inputModelIds: JSON.stringify(await registeredModelIds(tx, paths)),
      densities: JSON.stringify(report.models.map((m) => m.density)),
      slack: input.slack,
      slackScope: input.slackScope,
      totals: JSON.stringify({ totals: report.totals, byLayer: report.byLayer, byModule: report.byModule, models: report.models, slack_budget: report.slack_budget, warnings: report.warnings }),
    },
  });
  await tx.tensorStat.createMany({
    data: report.tensors.map((t) => ({
      analysisId: analysis.id,
      name: t.name,
      layer: t.layer,
      module: t.module,
      numel: t.numel,
      signConflicts: t.sign_conflicts,
      stats: JSON.stringify(t),
    })),
  });
  return analysis.id;
}
