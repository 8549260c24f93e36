// Task-vector geometry along an experiment's CT series (issue #16), shaped on the server: per CT
// checkpoint (ascending tokens), from its TIES / TIES-SV analyses, ||tau_sft||, ||tau_ct||,
// cos(tau_sft, tau_ct) and the sign agreement share -- density-independent, taken from the
// checkpoint's latest analysis that has geometry -- and the Jaccard overlap of the two trims'
// masks at every analysed density pair (latest analysis per pair), for the whole model, per
// module and per layer. Definitions: server/engine/stats/geometry.ts.
import { z } from "zod";
import type { Geometry } from "../../engine/stats";
import { experimentContext } from "./context";
import { checkpointSchema } from "./schemas";
import { candidateAnalyses, toSweepPoint, type StoredTotals } from "./sweep";

const jaccardPointSchema = z.object({ sftDensity: z.number(), ctDensity: z.number(), jaccard: z.number().nullable() });

const geometryGroupSchema = z.object({
  sftNorm: z.number().nullable(),
  ctNorm: z.number().nullable(),
  cosine: z.number().nullable(),
  signAgreement: z.number().nullable(),
  /** Ascending (sftDensity, ctDensity). */
  jaccard: z.array(jaccardPointSchema),
});
export type GeometryGroup = z.infer<typeof geometryGroupSchema>;

export const geometrySeriesSchema = z.object({
  experiment: z.object({ id: z.string(), name: z.string(), language: z.string() }),
  checkpoints: z.array(
    checkpointSchema.extend({
      /** Analyses of this checkpoint with geometry (0: none yet; the groups are then null / empty). */
      analyses: z.number(),
      total: geometryGroupSchema.nullable(),
      byModule: z.array(geometryGroupSchema.extend({ module: z.string() })),
      byLayer: z.array(geometryGroupSchema.extend({ layer: z.number().nullable() })),
    }),
  ),
  /** Analyses of the experiment stored without geometry (before the engine computed it): re-run them to see it. */
  withoutGeometry: z.number(),
});
export type GeometrySeries = z.infer<typeof geometrySeriesSchema>;

interface Found {
  sftIndex: number;
  ctIndex: number;
  sftDensity: number;
  ctDensity: number;
  createdAt: Date;
  stored: StoredTotals;
}

const finite = (x: number | null | undefined) => (typeof x === "number" && Number.isFinite(x) ? x : null);

function values(g: Geometry | null | undefined, f: Found): Omit<GeometryGroup, "jaccard"> {
  return {
    sftNorm: finite(g?.tv_norm?.[f.sftIndex]),
    ctNorm: finite(g?.tv_norm?.[f.ctIndex]),
    cosine: finite(g?.cosine),
    signAgreement: finite(g?.sign_agreement),
  };
}

/** One group (total, a module, a layer) over a checkpoint's analyses; pick selects it from stored totals. */
function group(found: Found[], pick: (s: StoredTotals) => Geometry | null | undefined): GeometryGroup | null {
  const latest = found[found.length - 1];
  if (!latest || !pick(latest.stored)) return null;
  const byPair = new Map<string, z.infer<typeof jaccardPointSchema>>();
  for (const f of found) {
    const g = pick(f.stored);
    if (g) byPair.set(`${f.sftDensity}|${f.ctDensity}`, { sftDensity: f.sftDensity, ctDensity: f.ctDensity, jaccard: finite(g.jaccard) });
  }
  const jaccard = [...byPair.values()].sort((a, b) => a.sftDensity - b.sftDensity || a.ctDensity - b.ctDensity);
  return { ...values(pick(latest.stored), latest), jaccard };
}

export async function geometrySeries(experimentId: string): Promise<GeometrySeries> {
  const ctx = await experimentContext(experimentId);
  const rows = await candidateAnalyses(ctx, ["ties", "ties_sv"]);
  const byCheckpoint = new Map<string, Found[]>();
  let withoutGeometry = 0;
  for (const row of rows) {
    const p = toSweepPoint(ctx, row);
    if ("reason" in p) continue;
    const stored = JSON.parse(row.totals) as StoredTotals; // readable: toSweepPoint parsed it
    if (!stored.totals.geometry) {
      if (row.experimentId === ctx.experiment.id) withoutGeometry++;
      continue;
    }
    const list = byCheckpoint.get(p.checkpointId) ?? [];
    list.push({ sftIndex: p.sftIndex, ctIndex: p.ctIndex, sftDensity: p.sftDensity, ctDensity: p.ctDensity, createdAt: p.createdAt, stored });
    byCheckpoint.set(p.checkpointId, list);
  }
  const checkpoints = ctx.checkpoints.map((c) => {
    const found = (byCheckpoint.get(c.modelId) ?? []).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    const latest = found[found.length - 1];
    const modules = latest?.stored.byModule?.map((m) => m.module) ?? [];
    const layers = latest?.stored.byLayer?.map((l) => l.layer) ?? [];
    return {
      ...c,
      analyses: found.length,
      total: group(found, (s) => s.totals.geometry),
      byModule: modules.flatMap((module) => {
        const g = group(found, (s) => s.byModule?.find((m) => m.module === module)?.geometry);
        return g ? [{ module, ...g }] : [];
      }),
      byLayer: layers.flatMap((layer) => {
        const g = group(found, (s) => s.byLayer?.find((l) => l.layer === layer)?.geometry);
        return g ? [{ layer, ...g }] : [];
      }),
    };
  });
  return { experiment: ctx.experiment, checkpoints, withoutGeometry };
}
