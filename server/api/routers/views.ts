import { z } from "zod";
import { createPublicLink, listPublicLinks, MAX_PUBLIC_LINK_DAYS, revokePublicLink } from "../../services/views/public-links";
import { createView, getView, savedViewSchema, viewIdSchema, viewStateSchema } from "../../services/views/store";
import { createTRPCRouter, researcherProcedure, viewerProcedure } from "../trpc";

const publicLinkRowSchema = z.object({
  id: z.string(),
  viewId: z.string(),
  createdBy: z.string().nullable(),
  expiresAt: z.date().nullable(),
  expired: z.boolean(),
  lastUsedAt: z.date().nullable(),
  createdAt: z.date(),
});

/** Read-only public links to one saved view: made by the view's owner (researcher or admin), revocable. */
const publicLinksRouter = createTRPCRouter({
  list: researcherProcedure
    .input(z.object({ viewId: viewIdSchema.nullish() }).optional())
    .output(z.array(publicLinkRowSchema))
    .query(({ input, ctx }) => listPublicLinks(ctx.user, { viewId: input?.viewId })),
  /** The link's path (/p/<token>) is returned once; only its hash is kept. */
  create: researcherProcedure
    .input(z.object({ viewId: viewIdSchema, expiresInDays: z.number().int().min(1).max(MAX_PUBLIC_LINK_DAYS).nullish() }))
    .output(z.object({ id: z.string(), viewId: z.string(), path: z.string(), expiresAt: z.date().nullable(), createdAt: z.date() }))
    .mutation(({ input, ctx }) => createPublicLink(ctx.user, input)),
  revoke: researcherProcedure
    .input(z.object({ id: z.string().min(1) }))
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ input, ctx }) => {
      await revokePublicLink(ctx.user, input.id);
      return { ok: true as const };
    }),
});

export const viewsRouter = createTRPCRouter({
  /** Saves a view's URL state behind a short link (/v/<id>); the same person saving the same state again gets the same id. */
  create: viewerProcedure.input(viewStateSchema).output(savedViewSchema).mutation(({ input, ctx }) => createView(input, ctx.user.id)),
  get: viewerProcedure.input(z.object({ id: z.string().min(1).max(64) })).output(savedViewSchema).query(({ input }) => getView(input.id)),
  publicLinks: publicLinksRouter,
});
