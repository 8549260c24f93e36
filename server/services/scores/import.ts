// Imports lm-evaluation-harness results into the Score table: matches the
// model in the file to a registered Model by path, files the scores (split
// inferred or given), and keeps re-imports idempotent (the same file — same
// sha256 — updates its rows instead of adding new ones). Also: listing,
// attaching a model name's scores to a registered model, deleting an import.
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { db, writeTransaction, type DbTx } from "../../db/client";
import { AppError } from "../../errors";
import { offload } from "../../offload/pool";
import { checkResultsFileSize, ResultsFileError, SPLITS, type ParsedResultsFile, type Split } from "./lm-eval";
import { automaticMatch, fingerprintTokens, matchCandidates, type MatchableModel } from "./match";

export const splitSchema = z.enum(SPLITS);

export const importSummarySchema = z.object({
  fileName: z.string(),
  sourceHash: z.string(),
  modelName: z.string(),
  pretrained: z.string().nullable(),
  modelId: z.string().nullable(),
  modelLabel: z.string().nullable(),
  /** option: chosen at upload; path: same path; job: an evaluate job's model; fingerprint: a merged model's digest in the path; confirmed: a reviewed match. */
  matchedBy: z.enum(["option", "path", "job", "fingerprint", "confirmed"]).nullable(),
  created: z.number(),
  updated: z.number(),
  unchanged: z.number(),
  total: z.number(),
  /** The file had been imported before and nothing changed. */
  duplicate: z.boolean(),
  tasks: z.array(z.object({ task: z.string(), split: splitSchema, splitSource: z.string(), isGroup: z.boolean(), metrics: z.number() })),
  warnings: z.array(z.string()),
});
export type ImportSummary = z.infer<typeof importSummarySchema>;

export interface SaveOptions {
  /** File the scores under this registered model (whatever the file says). */
  modelId?: string | null;
  /** The path that was evaluated (evaluate jobs): matched before the file's `pretrained`. */
  modelPath?: string | null;
  jobId?: string | null;
  /**
   * Rows per INSERT. The web server keeps the default (small statements between which the event
   * loop runs); job workers, which may block, pass a large one (fewer statements, faster).
   */
  rowsPerStatement?: number;
}

/** The spellings under which a path may be stored in Model.path (a realpath). */
function pathVariants(p: string): string[] {
  const out = new Set<string>([p, p.replace(/\/+$/, "")]);
  if (path.isAbsolute(p) || p.startsWith(".")) {
    const abs = path.resolve(p);
    out.add(abs);
    try {
      if (existsSync(abs)) out.add(realpathSync(abs));
    } catch {
      // unreadable: the plain spellings still count
    }
  }
  return [...out].filter((x) => x.length > 0);
}

async function resolveModel(tx: DbTx, parsed: ParsedResultsFile, opts: SaveOptions) {
  if (opts.modelId) {
    const m = await tx.model.findUnique({ where: { id: opts.modelId }, select: { id: true, name: true } });
    if (!m) throw new AppError("NOT_FOUND", `model ${opts.modelId} is not registered`);
    return { model: m, matchedBy: "option" as const };
  }
  const tries: { p: string; by: "job" | "path" }[] = [];
  if (opts.modelPath) tries.push({ p: opts.modelPath, by: "job" });
  if (parsed.pretrained) tries.push({ p: parsed.pretrained, by: "path" });
  for (const t of tries) {
    const m = await tx.model.findFirst({ where: { path: { in: pathVariants(t.p) } }, select: { id: true, name: true } });
    if (m) return { model: m, matchedBy: t.by };
  }
  // Made on another machine: a merged model's digest (or job key) in the path files it at once;
  // path-suffix candidates wait for the user's confirmation (listUnattached → attachImports).
  // Only models whose digests or folder carry one of the file's hex runs are read.
  const tokens = fingerprintTokens([parsed.pretrained ?? "", parsed.modelName, parsed.modelArgs ?? ""].join(" ")).slice(0, 20);
  if (tokens.length === 0) return { model: null, matchedBy: null };
  const models = await tx.model.findMany({
    where: { OR: tokens.flatMap((t) => [{ outputSha256: { startsWith: t } }, { recipeSha256: { startsWith: t } }, { path: { contains: t } }]) },
    select: MATCHABLE,
    take: 100,
  });
  const auto = automaticMatch(matchCandidates(parsed, models));
  if (auto) return { model: { id: auto.modelId, name: auto.name }, matchedBy: "fingerprint" as const };
  return { model: null, matchedBy: null };
}

const MATCHABLE = { id: true, name: true, path: true, role: true, outputSha256: true, recipeSha256: true } as const;

async function matchableModels(tx: Pick<DbTx, "model">): Promise<MatchableModel[]> {
  return tx.model.findMany({ select: MATCHABLE, orderBy: { id: "asc" }, take: 20_000 });
}

// Rows per statement. Prisma spends ~0.4 ms of CPU per created row here, synchronously per
// statement: 100 rows keep each step of an import far below the event-loop budget.
const CREATE_SLICE = 100;
const READ_PAGE = 1000;
/** Job workers may block their own loop: one statement per 5,000 rows. */
export const WORKER_ROWS_PER_STATEMENT = 5000;
/** An import at the limits writes 20,000 rows in 200 statements: minutes on a loaded machine, not a default 15 s. */
const IMPORT_TRANSACTION_TIMEOUT_MS = 10 * 60_000;

const keyOf = (s: { modelName: string; task: string; metric: string; filter: string }) => `${s.modelName}\u0000${s.task}\u0000${s.metric}\u0000${s.filter}`;

/** Files a parsed results file's scores (inside the caller's transaction; evaluate jobs call it from `persist`). */
export async function saveParsedResults(tx: DbTx, parsed: ParsedResultsFile, opts: SaveOptions = {}): Promise<ImportSummary> {
  const { model, matchedBy } = await resolveModel(tx, parsed, opts);
  const existing = [];
  for (let page = 0; ; page++) {
    const rows = await tx.score.findMany({ where: { sourceHash: parsed.sourceHash }, orderBy: { id: "asc" }, skip: page * READ_PAGE, take: READ_PAGE });
    existing.push(...rows);
    if (rows.length < READ_PAGE) break;
  }
  const byKey = new Map(existing.map((r) => [keyOf(r), r]));
  let created = 0;
  let updated = 0;
  let unchanged = 0;
  const toCreate = [];
  for (const s of parsed.scores) {
    const key = keyOf({ modelName: parsed.modelName, ...s });
    const row = byKey.get(key);
    if (!row) {
      toCreate.push({
        modelId: model?.id ?? null,
        modelName: parsed.modelName,
        task: s.task,
        split: s.split,
        splitSource: s.splitSource,
        metric: s.metric,
        filter: s.filter,
        value: s.value,
        stderr: s.stderr,
        nShot: s.nShot,
        isGroup: s.isGroup,
        higherIsBetter: s.higherIsBetter,
        sourceFile: parsed.fileName,
        sourceHash: parsed.sourceHash,
      });
      continue;
    }
    // Same file again: only an explicit split or a newly matched model changes a row; a match never detaches.
    const data: { split?: Split; splitSource?: string; modelId?: string } = {};
    if (row.split !== s.split && (parsed.splitOption !== null || row.splitSource !== "option")) {
      data.split = s.split;
      data.splitSource = s.splitSource;
    }
    if (model && row.modelId !== model.id) data.modelId = model.id;
    if (Object.keys(data).length > 0) {
      await tx.score.update({ where: { id: row.id }, data });
      updated++;
    } else unchanged++;
  }
  // In slices: each statement is synchronous in SQLite, so the event loop gets a turn in between.
  const slice = opts.rowsPerStatement ?? CREATE_SLICE;
  for (let i = 0; i < toCreate.length; i += slice) await tx.score.createMany({ data: toCreate.slice(i, i + slice) });
  created = toCreate.length;
  const prior = await tx.scoreImport.findUnique({ where: { sourceHash: parsed.sourceHash } });
  const importRow = {
    sourceFile: parsed.fileName,
    modelName: parsed.modelName,
    pretrained: parsed.pretrained,
    modelArgs: parsed.modelArgs,
    modelId: model?.id ?? prior?.modelId ?? null,
    matchedBy: matchedBy ?? prior?.matchedBy ?? null,
    splitOption: parsed.splitOption ?? prior?.splitOption ?? null,
    lmEvalVersion: parsed.lmEvalVersion,
    evaluatedAt: parsed.evaluatedAt,
    scoreCount: parsed.scores.length,
    warnings: JSON.stringify(parsed.warnings),
    jobId: opts.jobId ?? prior?.jobId ?? null,
  };
  await tx.scoreImport.upsert({ where: { sourceHash: parsed.sourceHash }, create: { sourceHash: parsed.sourceHash, ...importRow }, update: importRow });

  let modelLabel = model?.name ?? null;
  const finalModelId = model?.id ?? prior?.modelId ?? null;
  if (!modelLabel && finalModelId) modelLabel = (await tx.model.findUnique({ where: { id: finalModelId }, select: { name: true } }))?.name ?? null;
  return {
    fileName: parsed.fileName,
    sourceHash: parsed.sourceHash,
    modelName: parsed.modelName,
    pretrained: parsed.pretrained,
    modelId: finalModelId,
    modelLabel,
    matchedBy: (matchedBy ?? (prior?.matchedBy as ImportSummary["matchedBy"] | undefined) ?? null) as ImportSummary["matchedBy"],
    created,
    updated,
    unchanged,
    total: parsed.scores.length,
    duplicate: created === 0 && updated === 0,
    tasks: parsed.tasks,
    warnings: parsed.warnings,
  };
}

/**
 * Parses, validates and files one results file. Malformed files → AppError BAD_INPUT naming the
 * line and field; above the size limit → TOO_LARGE before parsing. The parse runs on an offload
 * thread (a results file can be megabytes of JSON; the web server's event loop stays free).
 */
export async function importResultsText(
  input: { fileName: string; text: string; modelId?: string | null; split?: Split | null },
  opts: { jobId?: string | null; modelPath?: string | null } = {},
): Promise<ImportSummary> {
  let parsed: ParsedResultsFile;
  try {
    checkResultsFileSize(input.fileName, Buffer.byteLength(input.text));
  } catch (err) {
    throw new AppError("TOO_LARGE", (err as Error).message, { cause: err });
  }
  try {
    parsed = await offload("lmEval.parse", { fileName: input.fileName, text: input.text, split: input.split ?? null });
  } catch (err) {
    if (err instanceof ResultsFileError) throw new AppError("BAD_INPUT", err.message, { cause: err });
    throw err;
  }
  // Parsed above, outside the transaction: it holds the write lock only while rows are written, and
  // a busy database retries it whole (saveParsedResults is idempotent per file: same sha256, same rows).
  return writeTransaction(`importing ${input.fileName}`, (tx) => saveParsedResults(tx, parsed, { modelId: input.modelId ?? null, jobId: opts.jobId ?? null, modelPath: opts.modelPath ?? null }), {
    timeoutMs: IMPORT_TRANSACTION_TIMEOUT_MS,
  });
}

export const importOutcomeSchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), fileName: z.string(), summary: importSummarySchema }),
  z.object({ ok: z.literal(false), fileName: z.string(), error: z.string() }),
]);
export type ImportOutcome = z.infer<typeof importOutcomeSchema>;

/** Several files: each succeeds or fails on its own (a malformed file does not block the others). */
export async function importResultsFiles(input: { files: { fileName: string; text: string }[]; modelId?: string | null; split?: Split | null }): Promise<ImportOutcome[]> {
  const out: ImportOutcome[] = [];
  for (const f of input.files) {
    try {
      const summary = await importResultsText({ fileName: f.fileName, text: f.text, modelId: input.modelId, split: input.split });
      out.push({ ok: true, fileName: f.fileName, summary });
    } catch (err) {
      if (err instanceof AppError && (err.code === "BAD_INPUT" || err.code === "NOT_FOUND" || err.code === "TOO_LARGE")) out.push({ ok: false, fileName: f.fileName, error: err.message });
      else throw err;
    }
  }
  return out;
}

export const scoreRowSchema = z.object({
  id: z.string(),
  modelId: z.string().nullable(),
  modelName: z.string(),
  modelLabel: z.string().nullable(),
  task: z.string(),
  split: z.string(),
  splitSource: z.string(),
  metric: z.string(),
  filter: z.string(),
  value: z.number(),
  stderr: z.number().nullable(),
  nShot: z.number().nullable(),
  isGroup: z.boolean(),
  higherIsBetter: z.boolean().nullable(),
  sourceFile: z.string().nullable(),
  sourceHash: z.string(),
  createdAt: z.date(),
});
export type ScoreRow = z.infer<typeof scoreRowSchema>;

export interface ScoreFilter {
  modelId?: string;
  modelName?: string;
  task?: string;
  split?: Split;
  sourceHash?: string;
  limit?: number;
}

export async function listScores(filter: ScoreFilter = {}): Promise<ScoreRow[]> {
  const client = await db();
  if (filter.modelId && !(await client.model.findUnique({ where: { id: filter.modelId }, select: { id: true } })))
    throw new AppError("NOT_FOUND", `model ${filter.modelId} is not registered`);
  const rows = await client.score.findMany({
    where: {
      ...(filter.modelId ? { modelId: filter.modelId } : {}),
      ...(filter.modelName ? { modelName: filter.modelName } : {}),
      ...(filter.task ? { task: filter.task } : {}),
      ...(filter.split ? { split: filter.split } : {}),
      ...(filter.sourceHash ? { sourceHash: filter.sourceHash } : {}),
    },
    include: { model: { select: { name: true } } },
    orderBy: [{ modelName: "asc" }, { task: "asc" }, { split: "asc" }, { metric: "asc" }, { filter: "asc" }, { createdAt: "desc" }],
    take: Math.min(filter.limit ?? 5000, 20_000),
  });
  return rows.map((r) => ({
    id: r.id,
    modelId: r.modelId,
    modelName: r.modelName,
    modelLabel: r.model?.name ?? null,
    task: r.task,
    split: r.split,
    splitSource: r.splitSource,
    metric: r.metric,
    filter: r.filter,
    value: r.value,
    stderr: r.stderr,
    nShot: r.nShot,
    isGroup: r.isGroup,
    higherIsBetter: r.higherIsBetter,
    sourceFile: r.sourceFile,
    sourceHash: r.sourceHash,
    createdAt: r.createdAt,
  }));
}

export const matchCandidateSchema = z.object({
  modelId: z.string(),
  name: z.string(),
  path: z.string(),
  role: z.string(),
  by: z.enum(["fingerprint", "suffix"]),
  evidence: z.string(),
  segments: z.number(),
});

export const unattachedSchema = z.object({
  sourceHash: z.string(),
  sourceFile: z.string(),
  /** The model as the file names it (model_name, else model_args pretrained): a path on the machine that evaluated. */
  modelName: z.string(),
  pretrained: z.string().nullable(),
  scores: z.number(),
  evaluatedAt: z.string().nullable(),
  /** Registered models this file may have evaluated, best first (empty: nothing alike is registered). */
  candidates: z.array(matchCandidateSchema),
});
export type UnattachedImport = z.infer<typeof unattachedSchema>;

/** Imported files whose scores are not filed under a registered model, each with its candidate models. */
export async function listUnattached(): Promise<UnattachedImport[]> {
  const client = await db();
  const groups = await client.score.groupBy({ by: ["sourceHash"], where: { modelId: null }, _count: { _all: true } });
  if (groups.length === 0) return [];
  const imports = await client.scoreImport.findMany({
    where: { sourceHash: { in: groups.map((g) => g.sourceHash) } },
    select: { sourceHash: true, sourceFile: true, modelName: true, pretrained: true, modelArgs: true, evaluatedAt: true },
    orderBy: [{ modelName: "asc" }, { sourceFile: "asc" }],
  });
  const models = await matchableModels(client);
  const counts = new Map(groups.map((g) => [g.sourceHash, g._count._all]));
  return imports.map((i) => ({
    sourceHash: i.sourceHash,
    sourceFile: i.sourceFile,
    modelName: i.modelName,
    pretrained: i.pretrained,
    scores: counts.get(i.sourceHash) ?? 0,
    evaluatedAt: i.evaluatedAt,
    candidates: matchCandidates(i, models).slice(0, 20),
  }));
}

export const attachInputSchema = z.object({
  items: z.array(z.object({ sourceHash: z.string().regex(/^[0-9a-f]{64}$/, "a results file's sha256 (64 hex digits)"), modelId: z.string().min(1) })).min(1).max(1000),
});
export const attachResultSchema = z.array(z.object({ sourceHash: z.string(), sourceFile: z.string(), modelId: z.string(), modelLabel: z.string(), modelPath: z.string(), attached: z.number() }));

/**
 * Files the unattached scores of each results file under the model the user confirmed, all or
 * nothing: an unknown model or file refuses the whole request (nothing is attached).
 */
export async function attachImports(input: z.infer<typeof attachInputSchema>): Promise<z.infer<typeof attachResultSchema>> {
  const hashes = input.items.map((i) => i.sourceHash);
  if (new Set(hashes).size !== hashes.length) throw new AppError("BAD_INPUT", "a results file is listed twice; confirm one model per file");
  return writeTransaction(`attaching the scores of ${input.items.length} results file(s)`, async (tx) => {
    const modelIds = [...new Set(input.items.map((i) => i.modelId))];
    const models = await tx.model.findMany({ where: { id: { in: modelIds } }, select: { id: true, name: true, path: true } });
    const missingModel = modelIds.find((id) => !models.some((m) => m.id === id));
    if (missingModel) throw new AppError("NOT_FOUND", `model ${missingModel} is not registered (deleted meanwhile?); reload the review and choose again`);
    const imports = await tx.scoreImport.findMany({ where: { sourceHash: { in: hashes } }, select: { sourceHash: true, sourceFile: true } });
    const missingFile = hashes.find((h) => !imports.some((i) => i.sourceHash === h));
    if (missingFile) throw new AppError("NOT_FOUND", `no imported results file with sha256 ${missingFile} (deleted meanwhile?); reload the review`);
    const out = [];
    for (const item of input.items) {
      const model = models.find((m) => m.id === item.modelId)!;
      const r = await tx.score.updateMany({ where: { sourceHash: item.sourceHash, modelId: null }, data: { modelId: model.id } });
      await tx.scoreImport.updateMany({ where: { sourceHash: item.sourceHash, modelId: null }, data: { modelId: model.id, matchedBy: "confirmed" } });
      out.push({ sourceHash: item.sourceHash, sourceFile: imports.find((i) => i.sourceHash === item.sourceHash)!.sourceFile, modelId: model.id, modelLabel: model.name, modelPath: model.path, attached: r.count });
    }
    return out;
  });
}

export const modelOptionSchema = z.object({ id: z.string(), name: z.string(), path: z.string(), role: z.string(), language: z.string().nullable() });

/** Registered models, for the "file under" and "attach to" pickers. */
export async function listModelOptions(): Promise<z.infer<typeof modelOptionSchema>[]> {
  const client = await db();
  return client.model.findMany({ select: { id: true, name: true, path: true, role: true, language: true }, orderBy: [{ name: "asc" }, { id: "asc" }], take: 5000 });
}

export const importRowSchema = z.object({
  sourceHash: z.string(),
  sourceFile: z.string(),
  modelName: z.string(),
  modelId: z.string().nullable(),
  matchedBy: z.string().nullable(),
  splitOption: z.string().nullable(),
  scoreCount: z.number(),
  warnings: z.array(z.string()),
  jobId: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});

export async function listImports(): Promise<z.infer<typeof importRowSchema>[]> {
  const client = await db();
  const rows = await client.scoreImport.findMany({ orderBy: [{ updatedAt: "desc" }, { id: "desc" }], take: 2000 });
  return rows.map((r) => ({
    sourceHash: r.sourceHash,
    sourceFile: r.sourceFile,
    modelName: r.modelName,
    modelId: r.modelId,
    matchedBy: r.matchedBy,
    splitOption: r.splitOption,
    scoreCount: r.scoreCount,
    warnings: safeJsonArray(r.warnings),
    jobId: r.jobId,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  }));
}

function safeJsonArray(s: string): string[] {
  try {
    const v = JSON.parse(s) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

/** Removes an imported file's scores. */
export async function deleteImport(sourceHash: string): Promise<{ deleted: number }> {
  return writeTransaction(`deleting the import ${sourceHash}`, async (tx) => {
    const r = await tx.score.deleteMany({ where: { sourceHash } });
    const i = await tx.scoreImport.deleteMany({ where: { sourceHash } });
    if (r.count === 0 && i.count === 0) throw new AppError("NOT_FOUND", `no imported file with sha256 ${sourceHash}`);
    return { deleted: r.count };
  });
}
