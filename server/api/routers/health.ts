import { z } from "zod";
import { getHealthStatus, healthStatusSchema } from "../../services/health/status";
import { createTRPCRouter, unauthenticatedProcedure } from "../trpc";

export const healthRouter = createTRPCRouter({
  status: unauthenticatedProcedure
    .input(z.object({}).strict().optional())
    .output(healthStatusSchema)
    .query(() => getHealthStatus()),
});
