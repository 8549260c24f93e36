// One-time sign-in links that create an account: the first admin's (printed on
// the first start, like Jupyter's token URL), `mergescope user add`, and an
// admin's invitations. The link's token is shown once; the person opening it
// chooses their password (and, for the first admin, their email).
import { AppError } from "../../errors";
import { db } from "../../db/client";
import { getAuth, publicBaseUrl } from "./auth";
import { hashLinkToken, isLinkTokenShaped, newLinkToken } from "./one-time-token";
import { parseRole, type Role } from "./roles";
import type { InviteInfo } from "./schemas";
import { userLabels } from "./users";

export const INVITE_TTL_HOURS = 72;

export function inviteUrl(token: string): string {
  return `${publicBaseUrl()}/setup?token=${token}`;
}

export async function createInvite(input: { email?: string | null; role: Role; createdById?: string | null; ttlHours?: number }): Promise<{ token: string; url: string; expiresAt: Date }> {
  const client = await db();
  const email = input.email?.trim().toLowerCase() || null;
  if (email && (await client.user.findUnique({ where: { email }, select: { id: true } }))) throw new AppError("CONFLICT", `an account for ${email} already exists`);
  const token = newLinkToken();
  const expiresAt = new Date(Date.now() + (input.ttlHours ?? INVITE_TTL_HOURS) * 3600_000);
  await client.invite.create({ data: { tokenHash: hashLinkToken(token), email, role: input.role, createdById: input.createdById ?? null, expiresAt } });
  return { token, url: inviteUrl(token), expiresAt };
}

/**
 * On a start with no account at all: a fresh first-admin link (earlier unused
 * ones stop working, so only the last printed link opens). Null once someone has an account.
 */
export async function firstAdminLink(): Promise<{ url: string; expiresAt: Date } | null> {
  const client = await db();
  if ((await client.user.count()) > 0) return null;
  await client.invite.deleteMany({ where: { usedAt: null, createdById: null, email: null, role: "admin" } });
  const { url, expiresAt } = await createInvite({ role: "admin", ttlHours: 24 * 30 });
  return { url, expiresAt };
}

async function openInvite(token: string) {
  const client = await db();
  const row = isLinkTokenShaped(token) ? await client.invite.findUnique({ where: { tokenHash: hashLinkToken(token) } }) : null;
  if (!row) throw new AppError("NOT_FOUND", "this sign-in link is not valid: check that it was copied whole, or ask an admin for a new one");
  if (row.usedAt) throw new AppError("CONFLICT", "this sign-in link was already used: sign in with your email and password");
  if (row.expiresAt.getTime() <= Date.now()) throw new AppError("NOT_FOUND", "this sign-in link has expired: ask an admin for a new one (or run `mergescope user add`)");
  return row;
}

export async function describeInvite(token: string): Promise<InviteInfo> {
  const row = await openInvite(token);
  return { email: row.email, role: parseRole(row.role), expiresAt: row.expiresAt, firstAdmin: row.role === "admin" && row.email === null && row.createdById === null };
}

/** Creates the account of an invitation (once). The browser then signs in with the password. */
export async function acceptInvite(token: string, input: { name: string; email?: string | null; password: string }): Promise<{ email: string; role: Role }> {
  const row = await openInvite(token);
  const email = row.email ?? input.email?.trim().toLowerCase();
  if (!email) throw new AppError("BAD_INPUT", "enter your email address");
  if (row.email && input.email && input.email.trim().toLowerCase() !== row.email)
    throw new AppError("BAD_INPUT", `this invitation is for ${row.email}`);
  const client = await db();
  if (await client.user.findUnique({ where: { email }, select: { id: true } })) throw new AppError("CONFLICT", `an account for ${email} already exists: sign in instead`);
  // Claim the link first: two tabs racing get one account.
  const claimed = await client.invite.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: new Date() } });
  if (claimed.count !== 1) throw new AppError("CONFLICT", "this sign-in link was already used: sign in with your email and password");
  const role = parseRole(row.role);
  try {
    const auth = await getAuth();
    const created = await auth.api.createUser({ body: { email, password: input.password, name: input.name, role } });
    await client.invite.update({ where: { id: row.id }, data: { usedById: created.user.id } });
  } catch (err) {
    await client.invite.update({ where: { id: row.id }, data: { usedAt: null } });
    const message = (err as { body?: { message?: string }; message?: string }).body?.message ?? (err as Error).message;
    throw new AppError("BAD_INPUT", `the account could not be created: ${message}`);
  }
  return { email, role };
}

export async function listInvites(): Promise<{ id: string; email: string | null; role: Role; expiresAt: Date; createdAt: Date; createdBy: string | null }[]> {
  const client = await db();
  const rows = await client.invite.findMany({ where: { usedAt: null, expiresAt: { gt: new Date() } }, orderBy: { createdAt: "desc" }, take: 200 });
  const names = await userLabels(rows.map((r) => r.createdById));
  return rows.map((r) => ({ id: r.id, email: r.email, role: parseRole(r.role), expiresAt: r.expiresAt, createdAt: r.createdAt, createdBy: r.createdById ? (names.get(r.createdById) ?? null) : null }));
}

export async function revokeInvite(id: string): Promise<void> {
  const client = await db();
  const r = await client.invite.deleteMany({ where: { id, usedAt: null } });
  if (r.count === 0) throw new AppError("NOT_FOUND", `no open invitation ${id}`);
}
