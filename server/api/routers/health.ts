import { z } from "zod";
import { getHealthStatus, healthStatusSchema } from "../../services/health/status";
import { createTRPCRouter, publicProcedure } from "../trpc";

export const healthRouter = createTRPCRouter({
  status: publicProcedure
    .input(z.object({}).strict().optional())
    .output(healthStatusSchema)
    .query(() => getHealthStatus()),
});
