// What the sign-in and first-admin pages need before anyone is signed in.
// Signing in and out themselves go through Better Auth (/api/auth/*).
import { z } from "zod";
import { acceptInvite, describeInvite } from "../../services/auth/invites";
import { roleSchema } from "../../services/auth/roles";
import { displayNameSchema, emailSchema, inviteInfoSchema, passwordSchema } from "../../services/auth/schemas";
import { countUsers } from "../../services/auth/users";
import { env } from "../../env";
import { createTRPCRouter, unauthenticatedProcedure } from "../trpc";

const tokenInput = z.object({ token: z.string().min(1).max(200) });

export const authRouter = createTRPCRouter({
  /** Which ways to sign in exist (single sign-on is optional), and whether the server still waits for its first admin. */
  signInOptions: unauthenticatedProcedure
    .output(z.object({ sso: z.object({ providerId: z.string(), name: z.string() }).nullable(), needsFirstAdmin: z.boolean() }))
    .query(async () => {
      const oidc = env().oidc;
      return { sso: oidc ? { providerId: "oidc", name: oidc.name } : null, needsFirstAdmin: (await countUsers()) === 0 };
    }),
  /** What a sign-in link (invitation) is for; refused when unknown, used or expired. */
  invite: unauthenticatedProcedure.input(tokenInput).output(inviteInfoSchema).query(({ input }) => describeInvite(input.token)),
  /** Creates the invited account with the password chosen; the page then signs in with it. */
  acceptInvite: unauthenticatedProcedure
    .input(tokenInput.extend({ name: displayNameSchema, email: emailSchema.nullish(), password: passwordSchema }))
    .output(z.object({ email: z.string(), role: roleSchema }))
    .mutation(({ input }) => acceptInvite(input.token, input)),
});
