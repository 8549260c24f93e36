// `merge` job: writes a merged model under <data>/merges/<name>-<key> with the
// engine's crash-safe staging. If a finished, verified output already exists
// (an earlier attempt published it but died before recording it), it is
// reused instead of merging again. The engine pass that merges also computes the
// recipe's statistics: they are stored as the merge's Analysis (Figures 3–4, the
// TIES vs TIES-SV comparison) in the transaction that marks the job done.
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { defineJob } from "../definition";
import { env } from "../../env";
import { merge } from "../../engine/merge";
import { verifyOutput } from "../../engine/output";
import type { StatsReport } from "../../engine/stats";
import { saveRecipeAnalysis } from "./recipe-analysis";
import { engineRoots, parsePayloadRecipe, recipeResources, recipeIdentity, recipePayloadSchema } from "./recipe-payload";
import { engineProgressToJob } from "./progress";

export const mergePayloadSchema = recipePayloadSchema.extend({
  outputName: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "letters, digits, '.', '_' and '-' only")
    .max(120)
    .optional(),
  shardSizeBytes: z.number().int().positive().optional(),
});

const mergeResultSchema = z.object({
  outDir: z.string(),
  outputSha256: z.string(),
  reused: z.boolean(),
  totals: z.record(z.string(), z.unknown()).nullable(),
  warnings: z.array(z.string()),
});

/** The outcome for a complete, verified output already at `outDir` (null when there is none; `problems` says why). */
async function verifiedOutput(outDir: string, problems: string[] = []) {
  if (!existsSync(outDir)) return null;
  const verified = await verifyOutput(outDir).catch((err: Error) => ({ ok: false as const, outputSha256: "", problems: [{ detail: err.message }] }));
  if (!verified.ok) {
    problems.push(...verified.problems.map((x) => x.detail));
    return null;
  }
  return { result: { outDir, outputSha256: verified.outputSha256, reused: true, totals: null, warnings: [] }, outputPath: outDir, outputSha256: verified.outputSha256 };
}

export const mergeJob = defineJob({
  type: "merge",
  version: 1,
  payload: mergePayloadSchema,
  result: mergeResultSchema,
  // Where the output lands is part of the job: a renamed re-run (or another output root) is a new merge.
  identity: async (p) => ({
    ...((await recipeIdentity(p)) as object),
    shardSizeBytes: p.shardSizeBytes ?? null,
    outputName: p.outputName ?? null,
    outputDir: env().outputDir,
  }),
  resources: (p) => recipeResources(p),
  async handler(p, ctx) {
    const recipe = parsePayloadRecipe(p);
    const name = p.outputName ?? `${recipe.method}-${path.basename(recipe.models.at(-1)?.path ?? "merge")}`;
    const outDir = path.join(ctx.outputDir, `${name}-${ctx.idempotencyKey.slice(0, 12)}`);
    const problems: string[] = [];
    const reused = await verifiedOutput(outDir, problems);
    if (reused) {
      ctx.log("info", `reusing the verified output already at ${outDir}`);
      return reused;
    }
    if (existsSync(outDir)) {
      ctx.log("warn", `removing an unverifiable output at ${outDir}: ${problems.join("; ")}`);
      rmSync(outDir, { recursive: true, force: true });
    }
    let r;
    try {
      r = await merge(recipe, outDir, {
        signal: ctx.signal,
        threads: ctx.threads,
        allowedRoots: engineRoots(),
        computeDtype: p.computeDtype,
        shardSizeBytes: p.shardSizeBytes,
        onProgress: (np) => ctx.reportProgress(engineProgressToJob(np)),
      });
    } catch (err) {
      // Another run of this same job published first (a worker that lost its lock kept
      // merging while the job ran again elsewhere): its verified output is this job's result.
      const published = (err as { code?: string }).code === "OUT_EXISTS" ? await verifiedOutput(outDir) : null;
      if (!published) throw err;
      ctx.log("info", `another run of this job published ${outDir} first; reusing its verified output`);
      return published;
    }
    for (const w of r.stats.warnings) ctx.log("warn", w);
    return {
      result: { outDir: r.outDir, outputSha256: r.manifestSha256, reused: false, totals: r.stats.totals as unknown as Record<string, unknown>, warnings: r.stats.warnings },
      outputPath: r.outDir,
      outputSha256: r.manifestSha256,
      // The merge's engine pass computed the recipe's statistics too: stored as its analysis.
      details: r.stats,
    };
  },
  async persist(tx, job, _result, details) {
    // A reused output was not merged again: its statistics were stored by the run that wrote it.
    if (details) await saveRecipeAnalysis(tx, job, details as StatsReport);
  },
});
