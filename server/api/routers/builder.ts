import {
  builderSettingsSchema,
  parseYamlInput,
  parseYamlResultSchema,
  previewResultSchema,
  sweepPlanInput,
  sweepPlanResultSchema,
} from "../../services/builder/schemas";
import { parsePastedYaml } from "../../services/builder/parse-yaml";
import { previewRecipe } from "../../services/builder/preview";
import { planSweep } from "../../services/builder/sweep-plan";
import { createTRPCRouter, publicProcedure } from "../trpc";

export const builderRouter = createTRPCRouter({
  /** The settings as validated mergekit YAML (or the parse errors with their YAML paths). */
  preview: publicProcedure.input(builderSettingsSchema).output(previewResultSchema).query(({ input }) => previewRecipe(input)),
  /** A pasted mergekit recipe → builder settings (errors with their YAML path and line). */
  parseYaml: publicProcedure.input(parseYamlInput).output(parseYamlResultSchema).mutation(({ input }) => parsePastedYaml(input.yaml)),
  /** The jobs.sweep calls (one per method) for checkpoints × methods × densities, and the job count. */
  sweepPlan: publicProcedure.input(sweepPlanInput).output(sweepPlanResultSchema).query(({ input }) => planSweep(input)),
});
