import { z } from "zod";
import {
  createExperimentInput,
  experimentDetailSchema,
  experimentSummarySchema,
  updateExperimentInput,
} from "../../services/experiments/schemas";
import { createExperiment, deleteExperiment, getExperiment, listExperiments, updateExperiment } from "../../services/experiments/store";
import { createTRPCRouter, publicProcedure } from "../trpc";

const idInput = z.object({ id: z.string().min(1) });

export const experimentsRouter = createTRPCRouter({
  list: publicProcedure
    .input(z.object({ language: z.string().max(64).optional() }).optional())
    .output(z.array(experimentSummarySchema))
    .query(({ input }) => listExperiments(input ?? {})),
  get: publicProcedure.input(idInput).output(experimentDetailSchema).query(({ input }) => getExperiment(input.id)),
  create: publicProcedure.input(createExperimentInput).output(experimentSummarySchema).mutation(({ input }) => createExperiment(input)),
  update: publicProcedure.input(updateExperimentInput).output(experimentSummarySchema).mutation(({ input }) => updateExperiment(input)),
  delete: publicProcedure
    .input(idInput)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ input }) => {
      await deleteExperiment(input.id);
      return { ok: true as const };
    }),
});
