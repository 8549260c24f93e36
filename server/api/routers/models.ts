import { z } from "zod";
import {
  listModelsInput,
  modelSchema,
  registerFolderInput,
  registerFolderResultSchema,
  registerModelInput,
  registerResultSchema,
  rootsSchema,
  updateModelInput,
} from "../../services/models/schemas";
import { deleteModel, getModel, listModels, modelRoots, registerFolder, registerModel, updateModel } from "../../services/models/registry";
import { createTRPCRouter, publicProcedure } from "../trpc";

const idInput = z.object({ id: z.string().min(1) });

export const modelsRouter = createTRPCRouter({
  roots: publicProcedure.input(z.object({}).strict().optional()).output(rootsSchema).query(() => modelRoots()),
  list: publicProcedure.input(listModelsInput).output(z.array(modelSchema)).query(({ input }) => listModels(input)),
  get: publicProcedure.input(idInput).output(modelSchema).query(({ input }) => getModel(input.id)),
  register: publicProcedure.input(registerModelInput).output(registerResultSchema).mutation(({ input }) => registerModel(input)),
  registerFolder: publicProcedure
    .input(registerFolderInput)
    .output(registerFolderResultSchema)
    .mutation(({ input }) => registerFolder(input)),
  update: publicProcedure.input(updateModelInput).output(modelSchema).mutation(({ input }) => updateModel(input)),
  delete: publicProcedure
    .input(idInput)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ input }) => {
      await deleteModel(input.id);
      return { ok: true as const };
    }),
});
