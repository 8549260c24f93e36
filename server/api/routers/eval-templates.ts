import { z } from "zod";
import {
  createEvalTemplate,
  deleteEvalTemplate,
  evalCommandSchema,
  evalTemplateNameSchema,
  evalTemplateSchema,
  listEvalTemplates,
  updateEvalTemplate,
} from "../../services/scores/eval-templates";
import { adminProcedure, createTRPCRouter, viewerProcedure } from "../trpc";

/** Evaluation command templates: admins write them, everyone signed in sees what an evaluation runs. */
export const evalTemplatesRouter = createTRPCRouter({
  list: viewerProcedure.output(z.array(evalTemplateSchema)).query(() => listEvalTemplates()),
  create: adminProcedure
    .input(z.object({ name: evalTemplateNameSchema, command: evalCommandSchema }))
    .output(evalTemplateSchema)
    .mutation(({ input, ctx }) => createEvalTemplate(input, ctx.user.id)),
  update: adminProcedure
    .input(z.object({ id: z.string().min(1), name: evalTemplateNameSchema.optional(), command: evalCommandSchema.optional() }))
    .output(evalTemplateSchema)
    .mutation(({ input }) => updateEvalTemplate(input)),
  delete: adminProcedure
    .input(z.object({ id: z.string().min(1) }))
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ input }) => {
      await deleteEvalTemplate(input.id);
      return { ok: true as const };
    }),
});
