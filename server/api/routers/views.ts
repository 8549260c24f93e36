import { z } from "zod";
import { createView, getView, savedViewSchema, viewStateSchema } from "../../services/views/store";
import { createTRPCRouter, publicProcedure } from "../trpc";

export const viewsRouter = createTRPCRouter({
  /** Saves a view's URL state behind a short link (/v/<id>); saving the same state again returns the same id. */
  create: publicProcedure.input(viewStateSchema).output(savedViewSchema).mutation(({ input }) => createView(input)),
  get: publicProcedure.input(z.object({ id: z.string().min(1).max(64) })).output(savedViewSchema).query(({ input }) => getView(input.id)),
});
