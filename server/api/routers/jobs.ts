import { z } from "zod";
import { cancelJob, deleteJob, enqueueJob, getJob, listJobs, retryJob, setJobPriority } from "../../jobs/client";
import { jobGroupsSchema, listJobGroups } from "../../jobs/sweeps";
import { jobStatusSchema, jobSummarySchema } from "../../jobs/status";
import { enqueueSweep } from "../../services/sweeps/sweep";
import { createTRPCRouter, researcherProcedure, viewerProcedure } from "../trpc";
import { MERGE_METHODS } from "../../engine/recipe/types";

const idInput = z.object({ id: z.string().min(1) });
const methodSchema = z.enum(MERGE_METHODS);

export const jobsRouter = createTRPCRouter({
  list: viewerProcedure
    .input(
      z
        .object({
          status: z.array(jobStatusSchema).optional(),
          type: z.array(z.string()).optional(),
          experimentId: z.string().optional(),
          /** The jobs of one sweep (a sweep row expanded on the jobs page). */
          sweepId: z.string().optional(),
          limit: z.number().int().min(1).max(5000).optional(),
        })
        .optional(),
    )
    .output(z.array(jobSummarySchema))
    .query(({ input }) => listJobs(input ?? {})),

  /** The jobs page: sweeps as one row each among the jobs queued on their own, newest first, a page at a time. */
  groups: viewerProcedure
    .input(
      z.object({
        status: z.array(jobStatusSchema).optional(),
        type: z.array(z.string()).optional(),
        experimentId: z.string().optional(),
        page: z.number().int().min(0).max(100_000).default(0),
        pageSize: z.number().int().min(1).max(500).default(50),
      }),
    )
    .output(jobGroupsSchema)
    .query(({ input }) => listJobGroups(input)),

  get: viewerProcedure
    .input(idInput)
    .output(
      z.object({
        job: jobSummarySchema,
        payload: z.unknown(),
        result: z.unknown(),
        logs: z.array(z.object({ ts: z.date(), level: z.string(), message: z.string() })),
      }),
    )
    .query(({ input }) => getJob(input.id)),

  enqueue: researcherProcedure
    .input(
      z.object({
        type: z.string().min(1),
        payload: z.unknown(),
        priority: z.number().int().min(-100).max(100).optional(),
        experimentId: z.string().nullish(),
        force: z.boolean().optional(),
      }),
    )
    .output(z.object({ job: jobSummarySchema, created: z.boolean() }))
    .mutation(({ input, ctx }) => enqueueJob({ ...input, createdById: ctx.user.id })),

  sweep: researcherProcedure
    .input(
      z.object({
        type: z.enum(["merge", "analyze"]),
        recipeYaml: z.string().min(1),
        recipeDir: z.string().min(1),
        checkpoints: z.array(z.string().min(1)).max(1000).optional(),
        ctIndex: z.number().int().min(0).optional(),
        methods: z.array(methodSchema).max(MERGE_METHODS.length).optional(),
        densities: z.array(z.array(z.number().min(0).max(1)).min(1).max(20)).optional(),
        experimentId: z.string().nullish(),
        priority: z.number().int().min(-100).max(100).optional(),
        labelPrefix: z.string().max(100).optional(),
      }),
    )
    .output(z.object({ jobs: z.array(jobSummarySchema), created: z.number(), sweepId: z.string().nullable() }))
    .mutation(({ input, ctx }) => enqueueSweep(input, ctx.user.id)),

  cancel: researcherProcedure.input(idInput).output(jobSummarySchema).mutation(({ input }) => cancelJob(input.id)),
  retry: researcherProcedure.input(idInput).output(jobSummarySchema).mutation(({ input }) => retryJob(input.id)),
  delete: researcherProcedure.input(idInput).output(z.object({ ok: z.literal(true) })).mutation(async ({ input }) => {
    await deleteJob(input.id);
    return { ok: true as const };
  }),
  setPriority: researcherProcedure
    .input(z.object({ id: z.string().min(1), priority: z.number().int().min(-100).max(100) }))
    .output(jobSummarySchema)
    .mutation(({ input }) => setJobPriority(input.id, input.priority)),
});
