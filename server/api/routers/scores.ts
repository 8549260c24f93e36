import { z } from "zod";
import {
  averagesInputSchema,
  deleteMapping,
  languageAverages,
  listMappings,
  modelAveragesSchema,
  resetMappings,
  taskMappingInputSchema,
  taskMappingRowSchema,
  taskMappingSchema,
  unmappedTasks,
  upsertMapping,
} from "../../services/scores/catalogue";
import { languageCodeInput, languageRowSchema } from "../../services/languages/schemas";
import { listLanguages } from "../../services/languages/store";
import { addProposedTasks, addProposedTasksInput, addProposedTasksResultSchema, proposeTasks, taskProposalsSchema } from "../../services/scores/task-proposals";
import { enqueueEvaluation, enqueueExperimentEvaluations, experimentPaperOverlay } from "../../services/scores/evaluate";
import { gridSearch, gridSearchResultSchema } from "../../services/scores/grid-search";
import {
  attachImports,
  attachInputSchema,
  attachResultSchema,
  deleteImport,
  importOutcomeSchema,
  importResultsFiles,
  importResultsText,
  importRowSchema,
  importSummarySchema,
  listImports,
  listModelOptions,
  listScores,
  listUnattached,
  modelOptionSchema,
  scoreRowSchema,
  splitSchema,
  unattachedSchema,
} from "../../services/scores/import";
import { checkConsistency, consistencyReportSchema, overlaySchema, PAPER_METHODS, paperData, paperDataSchema, paperOverlay } from "../../services/scores/paper";
import { jobSummarySchema } from "../../jobs/status";
import { evalTemplatesRouter } from "./eval-templates";
import { adminProcedure, createTRPCRouter, researcherProcedure, viewerProcedure } from "../trpc";

const MAX_FILE_CHARS = 50 * 1024 * 1024;
const fileInput = z.object({ fileName: z.string().min(1).max(500), text: z.string().max(MAX_FILE_CHARS) });

const catalogueRouter = createTRPCRouter({
  list: viewerProcedure.output(z.array(taskMappingRowSchema)).query(() => listMappings()),
  upsert: researcherProcedure
    .input(taskMappingInputSchema.extend({ previousTask: z.string().optional() }))
    .output(taskMappingRowSchema)
    .mutation(({ input }) => upsertMapping(input)),
  remove: researcherProcedure.input(z.object({ task: z.string().min(1) })).output(z.object({ ok: z.literal(true) })).mutation(async ({ input }) => {
    await deleteMapping(input.task);
    return { ok: true as const };
  }),
  reset: adminProcedure.output(z.object({ restored: z.number() })).mutation(() => resetMappings()),
  unmapped: viewerProcedure
    .output(z.array(z.object({ task: z.string(), scores: z.number(), suggestion: taskMappingSchema.nullable() })))
    .query(() => unmappedTasks()),
  /** Every known language (the paper's, the Language table's, the codes rows carry) with its script and name. */
  languages: viewerProcedure.output(z.array(languageRowSchema)).query(() => listLanguages()),
  /** A language's imported tasks that the catalogue does not map yet, as proposed rows. */
  proposals: viewerProcedure
    .input(z.object({ language: languageCodeInput }))
    .output(taskProposalsSchema)
    .query(({ input }) => proposeTasks(input.language)),
  /** Adds the confirmed proposals (and the language's script and name) in one step. */
  addProposed: researcherProcedure
    .input(addProposedTasksInput)
    .output(addProposedTasksResultSchema)
    .mutation(({ input }) => addProposedTasks(input)),
});

const paperRouter = createTRPCRouter({
  tables: viewerProcedure.output(paperDataSchema).query(() => paperData()),
  consistency: viewerProcedure.output(consistencyReportSchema).query(() => checkConsistency()),
  /** The paper's numbers for a language (or an experiment's language) as reference series, by method. */
  overlay: viewerProcedure
    .input(
      z
        .object({
          language: z.string().min(2).max(20).optional(),
          experimentId: z.string().min(1).optional(),
          benchmark: z.string().max(100).nullish(),
          methods: z.array(z.enum(PAPER_METHODS)).optional(),
        })
        .refine((i) => !!i.language !== !!i.experimentId, "give a language or an experimentId"),
    )
    .output(overlaySchema)
    .query(({ input }) =>
      input.experimentId
        ? experimentPaperOverlay({ experimentId: input.experimentId, benchmark: input.benchmark, methods: input.methods })
        : paperOverlay({ language: input.language!, benchmark: input.benchmark, methods: input.methods }),
    ),
});

export const scoresRouter = createTRPCRouter({
  /** One lm-eval results file (name + text). Malformed files are refused with the line and field at fault. */
  importFile: researcherProcedure
    .input(fileInput.extend({ modelId: z.string().min(1).nullish(), split: splitSchema.nullish() }))
    .output(importSummarySchema)
    .mutation(({ input }) => importResultsText(input)),
  /** Several files: each is imported or refused on its own. */
  importFiles: researcherProcedure
    .input(z.object({ files: z.array(fileInput).min(1).max(200), modelId: z.string().min(1).nullish(), split: splitSchema.nullish() }))
    .output(z.array(importOutcomeSchema))
    .mutation(({ input }) => importResultsFiles(input)),
  list: viewerProcedure
    .input(
      z
        .object({
          modelId: z.string().min(1).optional(),
          modelName: z.string().min(1).optional(),
          task: z.string().min(1).optional(),
          split: splitSchema.optional(),
          sourceHash: z.string().optional(),
          limit: z.number().int().min(1).max(20_000).optional(),
        })
        .optional(),
    )
    .output(z.array(scoreRowSchema))
    .query(({ input }) => listScores(input ?? {})),
  imports: viewerProcedure.output(z.array(importRowSchema)).query(() => listImports()),
  deleteImport: researcherProcedure.input(z.object({ sourceHash: z.string().min(1) })).output(z.object({ deleted: z.number() })).mutation(({ input }) => deleteImport(input.sourceHash)),
  models: viewerProcedure.output(z.array(modelOptionSchema)).query(() => listModelOptions()),
  /** Imported files not filed under a registered model, each with its candidate models (fingerprint, path suffix). */
  unattached: viewerProcedure.output(z.array(unattachedSchema)).query(() => listUnattached()),
  /** Files each listed results file's unattached scores under the model the user confirmed (all or nothing). */
  attach: researcherProcedure.input(attachInputSchema).output(attachResultSchema).mutation(({ input }) => attachImports(input)),
  /** Table-3-style averages: per model and language, the mean of the primary metrics (in %). */
  averages: viewerProcedure.input(averagesInputSchema).output(z.array(modelAveragesSchema)).query(({ input }) => languageAverages(input)),
  catalogue: catalogueRouter,
  /** Appendix B: best densities by dev score among merges that differ only by densities, with their test score. */
  gridSearch: viewerProcedure
    .input(z.object({ experimentId: z.string().min(1).optional(), language: z.string().min(2).max(20).optional(), task: z.string().min(1).optional() }))
    .output(gridSearchResultSchema)
    .query(({ input }) => gridSearch(input)),
  /** Queues an `evaluate` job for one model with an admin-configured template (template and tasks default to the experiment's). */
  evaluate: researcherProcedure
    .input(
      z.strictObject({
        experimentId: z.string().min(1).nullish(),
        modelId: z.string().min(1).nullish(),
        modelPath: z.string().min(1).nullish(),
        tasks: z.array(z.string().min(1)).max(500).optional(),
        templateId: z.string().min(1).max(64).nullish(),
        timeoutSeconds: z.number().int().min(1).max(7 * 24 * 3600).optional(),
        split: splitSchema.nullish(),
        force: z.boolean().optional(),
      }),
    )
    .output(z.object({ job: jobSummarySchema, created: z.boolean(), tasks: z.array(z.string()), template: z.object({ id: z.string(), name: z.string() }), modelPath: z.string() }))
    .mutation(({ input, ctx }) => enqueueEvaluation({ ...input, createdById: ctx.user.id })),
  /** Queues an evaluation of every finished merge of an experiment (with the experiment's template). */
  evaluateExperiment: researcherProcedure
    .input(z.object({ experimentId: z.string().min(1), split: splitSchema.nullish(), timeoutSeconds: z.number().int().min(1).max(7 * 24 * 3600).optional() }))
    .output(z.object({ jobs: z.array(jobSummarySchema), created: z.number() }))
    .mutation(({ input, ctx }) => enqueueExperimentEvaluations(input, ctx.user.id)),
  templates: evalTemplatesRouter,
  paper: paperRouter,
});
