// `import-scores` job: imports lm-evaluation-harness results files that are
// already on the server (paths inside the model roots or the data directory;
// a folder is searched for results*.json), as the upload does, in the
// transaction that marks the job done.
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { env } from "../../env";
import { defineJob, PermanentJobError } from "../definition";
import { findResultsFiles } from "../../services/scores/eval-runner";
import { saveParsedResults } from "../../services/scores/import";
import { parseLmEvalResults, ResultsFileError, sourceHashOf, SPLITS, type ParsedResultsFile } from "../../services/scores/lm-eval";

export const importScoresPayloadSchema = z.object({
  paths: z.array(z.string().min(1).refine((p) => path.isAbsolute(p), "must be an absolute path")).min(1).max(1000),
  modelId: z.string().min(1).optional(),
  split: z.enum(SPLITS).optional(),
  label: z.string().max(200).optional(),
});
export type ImportScoresPayload = z.infer<typeof importScoresPayloadSchema>;

const resultSchema = z.object({ files: z.array(z.object({ path: z.string(), sourceHash: z.string(), modelName: z.string(), scores: z.number() })), warnings: z.array(z.string()) });

function allowedRoots(): string[] {
  const e = env();
  return [...e.modelRoots, e.dataDir];
}

/** The files to import: each path must be inside an allowed root; folders contribute their results*.json. */
export function resolveImportPaths(paths: string[]): string[] {
  const roots = allowedRoots();
  const out: string[] = [];
  for (const p of paths) {
    const abs = path.resolve(p);
    if (!roots.some((r) => abs === r || abs.startsWith(r + path.sep)))
      throw new PermanentJobError("INVALID_ARGUMENT", `${abs} is outside the allowed folders (${roots.join(", ")}; MERGESCOPE_MODEL_ROOTS)`);
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw new PermanentJobError("INVALID_ARGUMENT", `${abs} does not exist`);
    }
    if (st.isDirectory()) {
      const found = findResultsFiles(abs, 6);
      if (found.length === 0) throw new PermanentJobError("INVALID_ARGUMENT", `${abs} holds no results*.json file`);
      out.push(...found);
    } else out.push(abs);
  }
  return [...new Set(out)];
}

export const importScoresJob = defineJob({
  type: "import-scores",
  version: 1,
  payload: importScoresPayloadSchema,
  result: resultSchema,
  identity(p) {
    const files = resolveImportPaths(p.paths);
    return { files: files.map((f) => [f, sourceHashOf(readFileSync(f, "utf8"))]), modelId: p.modelId ?? null, split: p.split ?? null };
  },
  async handler(p, ctx) {
    const files = resolveImportPaths(p.paths);
    const parsed: ParsedResultsFile[] = [];
    for (const [i, f] of files.entries()) {
      ctx.reportProgress({ phase: `reading ${path.basename(f)}`, progress: i / files.length });
      try {
        parsed.push(parseLmEvalResults(f, readFileSync(f, "utf8"), { split: p.split ?? null }));
      } catch (err) {
        if (err instanceof ResultsFileError) throw new PermanentJobError("INVALID_ARGUMENT", err.message);
        throw err;
      }
      ctx.log("info", `${f}: ${parsed.at(-1)?.scores.length ?? 0} scores for ${parsed.at(-1)?.modelName}`);
    }
    return {
      result: {
        files: parsed.map((x) => ({ path: x.fileName, sourceHash: x.sourceHash, modelName: x.modelName, scores: x.scores.length })),
        warnings: parsed.flatMap((x) => x.warnings.map((w) => `${x.fileName}: ${w}`)),
      },
      details: parsed,
    };
  },
  async persist(tx, job, _result, details) {
    for (const parsed of details as ParsedResultsFile[]) await saveParsedResults(tx, parsed, { modelId: job.payload.modelId ?? null, jobId: job.jobId });
  },
});
