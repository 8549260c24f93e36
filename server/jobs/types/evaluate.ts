// `evaluate` job: runs an evaluation command template (admin configuration,
// named by id: the payload cannot carry a command) on one model without a
// shell — {model} {tasks} {out} are the only substitutions —
// with a timeout (SIGTERM, then SIGKILL), its output in the job log, and the
// results_<date>.json it writes under {out} imported into the Score table in
// the same transaction that marks the job done.
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { defineJob, PermanentJobError } from "../definition";
import { modelFingerprintAsync } from "../idempotency";
import { LIMITS } from "../../limits";
import { checkModelFolder, evaluateRoots, readRegularFileText, resolveInside } from "../../paths";
import { buildEvalArgv, formatArgv, TemplateError, validateTemplate } from "../../services/scores/eval-command";
import { findResultsFiles, runCommand } from "../../services/scores/eval-runner";
import { evalTemplateCommand } from "../../services/scores/eval-templates";
import { saveParsedResults, WORKER_ROWS_PER_STATEMENT } from "../../services/scores/import";
import { parseLmEvalResults, ResultsFileError, SPLITS, type ParsedResultsFile } from "../../services/scores/lm-eval";

export const evaluatePayloadSchema = z.strictObject({
  modelPath: z.string().min(1).refine((p) => path.isAbsolute(p), "must be an absolute path"),
  modelId: z.string().min(1).optional(),
  tasks: z.array(z.string().min(1).max(200).regex(/^[^,\s]+$/, "one task name, no commas or spaces")).min(1).max(500),
  /** An EvalTemplate's id: what runs is what an admin configured. */
  templateId: z.string().min(1).max(64),
  /** Refused with a clear message: commands are configuration, never job input. */
  commandTemplate: z
    .never({ error: "an evaluate job cannot carry a command: evaluation commands are templates that admins configure; pass templateId" })
    .optional(),
  timeoutSeconds: z.number().int().min(1).max(7 * 24 * 3600),
  split: z.enum(SPLITS).optional(),
  label: z.string().max(200).optional(),
});
export type EvaluatePayload = z.infer<typeof evaluatePayloadSchema>;

const evaluateResultSchema = z.object({
  argv: z.array(z.string()),
  exitCode: z.number().nullable(),
  durationMs: z.number(),
  outDir: z.string(),
  resultsFiles: z.array(z.string()),
  scores: z.number(),
  tasks: z.array(z.string()),
  warnings: z.array(z.string()),
});

/** Failures of the evaluation command, with a stable code (shown with the job). */
export class EvaluateError extends Error {
  constructor(
    readonly code: "EVAL_SPAWN_FAILED" | "EVAL_EXIT_CODE" | "EVAL_TIMEOUT" | "EVAL_NO_RESULTS" | "EVAL_RESULTS_INVALID",
    message: string,
  ) {
    super(message);
    this.name = "EvaluateError";
  }
}

const MAX_LOGGED_LINES = 2000;
/** SIGTERM → SIGKILL grace after a timeout or a cancel. */
export const KILL_GRACE_MS = 10_000;

const resolvedSchema = z.object({ id: z.string(), name: z.string(), command: z.string() });

async function templateOf(p: EvaluatePayload): Promise<z.infer<typeof resolvedSchema>> {
  const t = await evalTemplateCommand(p.templateId);
  if (!t) throw new PermanentJobError("EVAL_TEMPLATE_MISSING", `evaluation template ${p.templateId} no longer exists: ask an admin, then queue the evaluation again`);
  return t;
}

function checkTemplate(template: string): string[] {
  try {
    return validateTemplate(template).warnings;
  } catch (err) {
    if (err instanceof TemplateError) throw new PermanentJobError("INVALID_ARGUMENT", `command template: ${err.message}`);
    throw err;
  }
}

/** The model an evaluation may run on: a folder or regular file inside the model roots or the merge outputs (realpath), no file linking out. */
async function resolveEvaluatedModel(modelPath: string): Promise<string> {
  const contain = { roots: evaluateRoots(), what: "model path", rootsLabel: "allowed model roots and merge outputs" };
  const real = await resolveInside(modelPath, contain);
  await checkModelFolder(real, contain);
  return real;
}

export const evaluateJob = defineJob({
  type: "evaluate",
  // v2: templateId instead of a command in the payload (v1 jobs are refused by every worker).
  version: 2,
  payload: evaluatePayloadSchema,
  result: evaluateResultSchema,
  async identity(p) {
    const t = await templateOf(p);
    checkTemplate(t.command); // a broken template is refused at enqueue
    await resolveEvaluatedModel(p.modelPath);
    return { modelPath: p.modelPath, model: await modelFingerprintAsync(p.modelPath), modelId: p.modelId ?? null, tasks: p.tasks, templateId: t.id, command: t.command, split: p.split ?? null, timeoutSeconds: p.timeoutSeconds };
  },
  resolve: templateOf,
  async handler(p, ctx) {
    const parsedTemplate = resolvedSchema.safeParse(ctx.resolved);
    if (!parsedTemplate.success) throw new PermanentJobError("EVAL_TEMPLATE_MISSING", `the evaluation template ${p.templateId} was not handed to this worker`);
    const template = parsedTemplate.data;
    const warnings = checkTemplate(template.command);
    ctx.log("info", `evaluation template '${template.name}' (${template.id})`);
    for (const w of warnings) ctx.log("warn", w);
    const outDir = path.join(ctx.dataDir, "evals", ctx.idempotencyKey.slice(0, 16), `attempt-${ctx.attempt}`);
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    // Checked again where it is used: the command gets the realpath that passed.
    const modelPath = await resolveEvaluatedModel(p.modelPath);
    const argv = buildEvalArgv(template.command, { model: modelPath, tasks: p.tasks, out: outDir });
    ctx.log("info", `$ ${formatArgv(argv)}`);
    ctx.reportProgress({ phase: `evaluating ${p.tasks.length} task(s)`, progress: 0.05 });
    let logged = 0;
    const r = await runCommand({
      argv,
      timeoutMs: p.timeoutSeconds * 1000,
      killGraceMs: KILL_GRACE_MS,
      signal: ctx.signal,
      onLine: (stream, line) => {
        logged++;
        if (logged <= MAX_LOGGED_LINES) ctx.log("info", `[${stream}] ${line.slice(0, 2000)}`);
        else if (logged === MAX_LOGGED_LINES + 1) ctx.log("warn", `more output than ${MAX_LOGGED_LINES} lines: the rest is not logged (the last lines are kept for errors)`);
      },
    });
    const tail = r.tail.length ? `\nlast output:\n${r.tail.join("\n")}` : "";
    if (r.cancelled) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error("cancelled");
    if (r.spawnError)
      throw new EvaluateError(
        "EVAL_SPAWN_FAILED",
        r.spawnError.code === "ENOENT" ? `cannot run '${argv[0]}': not found (is it installed and on the worker's PATH?)` : `cannot run '${argv[0]}': ${r.spawnError.message}`,
      );
    if (r.timedOut)
      throw new EvaluateError(
        "EVAL_TIMEOUT",
        `timed out after ${p.timeoutSeconds} s: stopped with ${r.killedWith === "SIGKILL" ? `SIGTERM, then SIGKILL after ${KILL_GRACE_MS / 1000} s` : "SIGTERM"}${tail}`,
      );
    if (r.exitCode !== 0) throw new EvaluateError("EVAL_EXIT_CODE", `the command exited with ${r.exitCode === null ? `signal ${r.signal}` : `code ${r.exitCode}`}${tail}`);
    const files = await findResultsFiles(outDir);
    if (files.length === 0) throw new EvaluateError("EVAL_NO_RESULTS", `the command exited with code 0 but wrote no results*.json under ${outDir}${tail}`);
    const parsed: ParsedResultsFile[] = [];
    for (const f of files) {
      try {
        const { text } = await readRegularFileText(f, { roots: [outDir], maxBytes: LIMITS.resultsFileBytes, what: "results file" });
        parsed.push(parseLmEvalResults(path.relative(ctx.dataDir, f), text, { split: p.split ?? null }));
      } catch (err) {
        if (err instanceof ResultsFileError) throw new EvaluateError("EVAL_RESULTS_INVALID", err.message);
        throw err;
      }
    }
    const tasks = [...new Set(parsed.flatMap((x) => x.tasks.map((t) => t.task)))];
    const missing = p.tasks.filter((t) => !tasks.includes(t));
    if (missing.length > 0) ctx.log("warn", `the results have no scores for: ${missing.join(", ")}`);
    ctx.log("info", `found ${files.length} results file(s): ${files.map((f) => path.relative(outDir, f)).join(", ")}; ${parsed.reduce((n, x) => n + x.scores.length, 0)} scores`);
    return {
      result: {
        argv,
        exitCode: r.exitCode,
        durationMs: r.durationMs,
        outDir,
        resultsFiles: files,
        scores: parsed.reduce((n, x) => n + x.scores.length, 0),
        tasks,
        warnings: [...warnings, ...parsed.flatMap((x) => x.warnings), ...(missing.length ? [`no scores for: ${missing.join(", ")}`] : [])],
      },
      details: parsed,
    };
  },
  async persist(tx, job, _result, details) {
    for (const parsed of details as ParsedResultsFile[])
      await saveParsedResults(tx, parsed, { modelId: job.payload.modelId ?? null, modelPath: job.payload.modelPath, jobId: job.jobId, rowsPerStatement: WORKER_ROWS_PER_STATEMENT });
  },
});
