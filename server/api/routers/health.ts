import { z } from "zod";
import { getHealthStatus, healthStatusSchema, publicHealth } from "../../services/health/status";
import { createTRPCRouter, unauthenticatedProcedure } from "../trpc";

export const healthRouter = createTRPCRouter({
  status: unauthenticatedProcedure
    .input(z.object({}).strict().optional())
    .output(healthStatusSchema)
    // Open to anyone (probes, the sign-in page); the details only for a signed-in caller.
    .query(async ({ ctx }) => {
      const status = await getHealthStatus();
      return ctx.principal.kind === "user" ? status : publicHealth(status);
    }),
});
