// The signed-in user's own account: who am I, and personal API tokens.
import { z } from "zod";
import { roleSchema } from "../../services/auth/roles";
import { createdTokenSchema, tokenRowSchema, userSummarySchema } from "../../services/auth/schemas";
import { createToken, listTokens, revokeToken } from "../../services/auth/tokens";
import { createTRPCRouter, viewerProcedure } from "../trpc";

const tokensRouter = createTRPCRouter({
  list: viewerProcedure.output(z.array(tokenRowSchema)).query(({ ctx }) => listTokens(ctx.user.id)),
  /** The token's secret is in this answer only. Its role cannot exceed yours. */
  create: viewerProcedure
    .input(z.object({ name: z.string().trim().min(1).max(32), role: roleSchema, expiresInDays: z.number().int().min(1).max(365).nullish() }))
    .output(createdTokenSchema)
    .mutation(({ input, ctx }) => createToken(ctx.user, input)),
  revoke: viewerProcedure
    .input(z.object({ id: z.string().min(1) }))
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ input, ctx }) => {
      await revokeToken(ctx.user.id, input.id);
      return { ok: true as const };
    }),
});

export const accountRouter = createTRPCRouter({
  me: viewerProcedure
    .output(userSummarySchema.extend({ via: z.enum(["session", "token"]) }))
    .query(({ ctx }) => ({ ...ctx.user, via: ctx.principal.kind === "user" ? ctx.principal.via : ("session" as const) })),
  tokens: tokensRouter,
});
