// Shapes of accounts as the API shows them.
import { z } from "zod";
import { roleSchema } from "./roles";

export const userSummarySchema = z.object({ id: z.string(), name: z.string(), email: z.string(), role: roleSchema });
export type UserSummary = z.infer<typeof userSummarySchema>;

export const userRowSchema = userSummarySchema.extend({ banned: z.boolean(), createdAt: z.date(), tokens: z.number(), signInMethods: z.array(z.string()) });

export const inviteInfoSchema = z.object({ email: z.string().nullable(), role: roleSchema, expiresAt: z.date(), firstAdmin: z.boolean() });
export type InviteInfo = z.infer<typeof inviteInfoSchema>;

export const inviteRowSchema = z.object({ id: z.string(), email: z.string().nullable(), role: roleSchema, expiresAt: z.date(), createdAt: z.date(), createdBy: z.string().nullable() });

export const createdLinkSchema = z.object({ url: z.string(), expiresAt: z.date() });

export const tokenRowSchema = z.object({
  id: z.string(),
  name: z.string(),
  start: z.string().nullable(),
  role: roleSchema,
  expiresAt: z.date().nullable(),
  lastUsedAt: z.date().nullable(),
  createdAt: z.date(),
});
export type TokenRow = z.infer<typeof tokenRowSchema>;

/** The one moment a token's secret is shown. */
export const createdTokenSchema = tokenRowSchema.extend({ token: z.string() });

export const passwordSchema = z.string().min(10, "at least 10 characters").max(256);
export const emailSchema = z.string().trim().toLowerCase().pipe(z.email({ error: "not an email address" })).pipe(z.string().max(254));
export const displayNameSchema = z.string().trim().min(1, "enter a name").max(100);
