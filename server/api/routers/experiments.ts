import { z } from "zod";
import {
  createExperimentInput,
  experimentDetailSchema,
  experimentSummarySchema,
  updateExperimentInput,
} from "../../services/experiments/schemas";
import { experimentOverviewSchema, experimentOverviews } from "../../services/experiments/overview";
import { createExperiment, deleteExperiment, getExperiment, listExperiments, updateExperiment } from "../../services/experiments/store";
import { createTRPCRouter, researcherProcedure, viewerProcedure } from "../trpc";

const idInput = z.object({ id: z.string().min(1) });

export const experimentsRouter = createTRPCRouter({
  /** The home page's cards: the newest experiments with job counts and a Figure 4 thumbnail. */
  overview: viewerProcedure.output(z.array(experimentOverviewSchema)).query(() => experimentOverviews()),
  list: viewerProcedure
    .input(z.object({ language: z.string().max(64).optional() }).optional())
    .output(z.array(experimentSummarySchema))
    .query(({ input }) => listExperiments(input ?? {})),
  get: viewerProcedure.input(idInput).output(experimentDetailSchema).query(({ input }) => getExperiment(input.id)),
  create: researcherProcedure.input(createExperimentInput).output(experimentSummarySchema).mutation(({ input, ctx }) => createExperiment(input, ctx.user.id)),
  update: researcherProcedure.input(updateExperimentInput).output(experimentSummarySchema).mutation(({ input }) => updateExperiment(input)),
  delete: researcherProcedure
    .input(idInput)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ input }) => {
      await deleteExperiment(input.id);
      return { ok: true as const };
    }),
});
