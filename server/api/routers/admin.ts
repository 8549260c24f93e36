// Admins: accounts and invitations (sign-in links with a role).
import { z } from "zod";
import { createInvite, listInvites, revokeInvite } from "../../services/auth/invites";
import { roleSchema } from "../../services/auth/roles";
import { createdLinkSchema, emailSchema, inviteRowSchema, userRowSchema } from "../../services/auth/schemas";
import { listUsers, removeUser, setUserBlocked, setUserRole } from "../../services/auth/users";
import { adminProcedure, createTRPCRouter } from "../trpc";

const ok = z.object({ ok: z.literal(true) });
const userId = z.object({ userId: z.string().min(1) });

const usersRouter = createTRPCRouter({
  list: adminProcedure.output(z.array(userRowSchema)).query(() => listUsers()),
  setRole: adminProcedure
    .input(userId.extend({ role: roleSchema }))
    .output(ok)
    .mutation(async ({ input }) => {
      await setUserRole(input.userId, input.role);
      return { ok: true as const };
    }),
  setBlocked: adminProcedure
    .input(userId.extend({ blocked: z.boolean() }))
    .output(ok)
    .mutation(async ({ input }) => {
      await setUserBlocked(input.userId, input.blocked);
      return { ok: true as const };
    }),
  remove: adminProcedure
    .input(userId)
    .output(ok)
    .mutation(async ({ input }) => {
      await removeUser(input.userId);
      return { ok: true as const };
    }),
});

const invitesRouter = createTRPCRouter({
  list: adminProcedure.output(z.array(inviteRowSchema)).query(() => listInvites()),
  /** A one-time sign-in link for a new account with this role (shown once). */
  create: adminProcedure
    .input(z.object({ email: emailSchema.nullish(), role: roleSchema }))
    .output(createdLinkSchema)
    .mutation(async ({ input, ctx }) => {
      const r = await createInvite({ email: input.email, role: input.role, createdById: ctx.user.id });
      return { url: r.url, expiresAt: r.expiresAt };
    }),
  revoke: adminProcedure
    .input(z.object({ id: z.string().min(1) }))
    .output(ok)
    .mutation(async ({ input }) => {
      await revokeInvite(input.id);
      return { ok: true as const };
    }),
});

export const adminRouter = createTRPCRouter({ users: usersRouter, invites: invitesRouter });
