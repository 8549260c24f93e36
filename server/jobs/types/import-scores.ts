// `import-scores` job: imports lm-evaluation-harness results files that are
// already on the server (paths inside the model roots or the data directory;
// a folder is searched for results*.json), as the upload does, in the
// transaction that marks the job done. Paths are checked by realpath (a link
// inside a root that leads out is refused before anything is read); at enqueue
// the web server only stats the files (the identity is path, size and mtime),
// the worker reads them — regular files only, size-capped, containment checked
// again on the opened descriptor.
import { stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { defineJob, PermanentJobError } from "../definition";
import { LIMITS } from "../../limits";
import { formatBytes, importRoots, PathError, readRegularFileText, resolveInside, showPath } from "../../paths";
import { findResultsFiles } from "../../services/scores/eval-runner";
import { saveParsedResults, WORKER_ROWS_PER_STATEMENT } from "../../services/scores/import";
import { parseLmEvalResults, ResultsFileError, SPLITS, type ParsedResultsFile } from "../../services/scores/lm-eval";

export const importScoresPayloadSchema = z.object({
  paths: z.array(z.string().min(1).refine((p) => path.isAbsolute(p), "must be an absolute path")).min(1).max(1000),
  modelId: z.string().min(1).optional(),
  split: z.enum(SPLITS).optional(),
  label: z.string().max(200).optional(),
});
export type ImportScoresPayload = z.infer<typeof importScoresPayloadSchema>;

const resultSchema = z.object({ files: z.array(z.object({ path: z.string(), sourceHash: z.string(), modelName: z.string(), scores: z.number() })), warnings: z.array(z.string()) });

const contain = { what: "results path", rootsLabel: "allowed folders", hint: "Results can be imported from MERGESCOPE_MODEL_ROOTS and the data directory, or uploaded." };

export interface ImportFile {
  /** realpath */
  path: string;
  size: number;
  mtimeMs: number;
}

/**
 * The files to import, stat'ed (never read): each path must resolve inside an allowed folder;
 * folders contribute their results*.json; only regular files within the size limit.
 */
export async function resolveImportPaths(paths: string[]): Promise<ImportFile[]> {
  const roots = importRoots();
  const out = new Map<string, ImportFile>();
  for (const p of paths) {
    const real = await resolveInside(p, { ...contain, roots });
    const st = await stat(real);
    const files = st.isDirectory() ? await findResultsFiles(real, 6) : [real];
    if (files.length === 0) throw new PathError("PATH_NOT_FOUND", p, `${contain.what} ${showPath(p)} holds no results*.json file`);
    for (const f of files) {
      const fst = f === real ? st : await stat(f);
      if (!fst.isFile()) throw new PathError("PATH_NOT_REGULAR", p, `${contain.what} ${showPath(p)} is not a regular file or folder (a FIFO, device or socket is never read)`);
      if (fst.size > LIMITS.resultsFileBytes)
        throw new PathError("FILE_TOO_LARGE", f, `results file ${showPath(f)} is ${formatBytes(fst.size)}, above the ${formatBytes(LIMITS.resultsFileBytes)} limit for a results file; it is not read`);
      out.set(f, { path: f, size: fst.size, mtimeMs: fst.mtimeMs });
    }
  }
  return [...out.values()];
}

export const importScoresJob = defineJob({
  type: "import-scores",
  version: 1,
  payload: importScoresPayloadSchema,
  result: resultSchema,
  async identity(p) {
    const files = await resolveImportPaths(p.paths);
    return { files: files.map((f) => [f.path, f.size, f.mtimeMs]), modelId: p.modelId ?? null, split: p.split ?? null };
  },
  async handler(p, ctx) {
    const files = await resolveImportPaths(p.paths);
    const parsed: ParsedResultsFile[] = [];
    for (const [i, f] of files.entries()) {
      ctx.reportProgress({ phase: `reading ${path.basename(f.path)}`, progress: i / files.length });
      // Opened again here: a file swapped for a link out or a FIFO since the check is refused.
      const { text } = await readRegularFileText(f.path, { ...contain, roots: importRoots(), maxBytes: LIMITS.resultsFileBytes });
      try {
        parsed.push(parseLmEvalResults(f.path, text, { split: p.split ?? null }));
      } catch (err) {
        if (err instanceof ResultsFileError) throw new PermanentJobError("INVALID_ARGUMENT", err.message);
        throw err;
      }
      ctx.log("info", `${f.path}: ${parsed.at(-1)?.scores.length ?? 0} scores for ${parsed.at(-1)?.modelName}`);
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
    for (const parsed of details as ParsedResultsFile[]) await saveParsedResults(tx, parsed, { modelId: job.payload.modelId ?? null, jobId: job.jobId, rowsPerStatement: WORKER_ROWS_PER_STATEMENT });
  },
});
