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
import { createTRPCRouter, researcherProcedure, viewerProcedure } from "../trpc";

export const builderRouter = createTRPCRouter({
  /** The settings as validated mergekit YAML (or the parse errors with their YAML paths). */
  preview: viewerProcedure.input(builderSettingsSchema).output(previewResultSchema).query(({ input }) => previewRecipe(input)),
  /** A pasted mergekit recipe → builder settings (errors with their YAML path and line); resolves the paths it names, so researchers only. */
  parseYaml: researcherProcedure.input(parseYamlInput).output(parseYamlResultSchema).mutation(({ input }) => parsePastedYaml(input.yaml)),
  /** The jobs.sweep calls (one per method) for checkpoints × methods × densities, and the job count. */
  sweepPlan: viewerProcedure.input(sweepPlanInput).output(sweepPlanResultSchema).query(({ input }) => planSweep(input)),
});
