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
import { createTRPCRouter, researcherProcedure, viewerProcedure } from "../trpc";

const idInput = z.object({ id: z.string().min(1) });

export const modelsRouter = createTRPCRouter({
  roots: viewerProcedure.input(z.object({}).strict().optional()).output(rootsSchema).query(() => modelRoots()),
  list: viewerProcedure.input(listModelsInput).output(z.array(modelSchema)).query(({ input }) => listModels(input)),
  get: viewerProcedure.input(idInput).output(modelSchema).query(({ input }) => getModel(input.id)),
  register: researcherProcedure.input(registerModelInput).output(registerResultSchema).mutation(({ input }) => registerModel(input)),
  registerFolder: researcherProcedure
    .input(registerFolderInput)
    .output(registerFolderResultSchema)
    .mutation(({ input }) => registerFolder(input)),
  update: researcherProcedure.input(updateModelInput).output(modelSchema).mutation(({ input }) => updateModel(input)),
  delete: researcherProcedure
    .input(idInput)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ input }) => {
      await deleteModel(input.id);
      return { ok: true as const };
    }),
});
