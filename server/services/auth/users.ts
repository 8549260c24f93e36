// Account management for admins: list, change a role, block, remove. An admin
// cannot leave the server without an admin (the last one cannot be demoted,
// blocked or removed).
import { AppError } from "../../errors";
import { db } from "../../db/client";
import { parseRole, type Role } from "./roles";
import type { UserSummary } from "./schemas";

/** "Name" (or email) of users by id, for "created by" columns; a removed user's id maps to nothing. */
export async function userLabels(ids: (string | null | undefined)[]): Promise<Map<string, string>> {
  const wanted = [...new Set(ids.filter((x): x is string => !!x))];
  if (wanted.length === 0) return new Map();
  const client = await db();
  const users = await client.user.findMany({ where: { id: { in: wanted } }, select: { id: true, name: true, email: true } });
  return new Map(users.map((u) => [u.id, u.name || u.email]));
}

export async function countUsers(): Promise<number> {
  return (await db()).user.count();
}

export async function getUserSummary(id: string): Promise<(UserSummary & { banned: boolean }) | null> {
  const u = await (await db()).user.findUnique({ where: { id }, select: { id: true, name: true, email: true, role: true, banned: true } });
  return u ? { id: u.id, name: u.name, email: u.email, role: parseRole(u.role), banned: !!u.banned } : null;
}

export async function listUsers() {
  const client = await db();
  const users = await client.user.findMany({
    orderBy: { createdAt: "asc" },
    select: { id: true, name: true, email: true, role: true, banned: true, createdAt: true, _count: { select: { apikeys: true } }, accounts: { select: { providerId: true } } },
  });
  return users.map((u) => ({
    id: u.id,
    name: u.name,
    email: u.email,
    role: parseRole(u.role),
    banned: !!u.banned,
    createdAt: u.createdAt,
    tokens: u._count.apikeys,
    signInMethods: [...new Set(u.accounts.map((a) => (a.providerId === "credential" ? "password" : a.providerId)))],
  }));
}

async function assertAnotherAdmin(userId: string, action: string): Promise<void> {
  const client = await db();
  const others = await client.user.count({ where: { role: "admin", id: { not: userId }, OR: [{ banned: false }, { banned: null }] } });
  if (others === 0) throw new AppError("CONFLICT", `cannot ${action} the last admin: make someone else admin first`);
}

async function existing(userId: string) {
  const u = await (await db()).user.findUnique({ where: { id: userId }, select: { id: true, role: true } });
  if (!u) throw new AppError("NOT_FOUND", `no user ${userId}`);
  return u;
}

export async function setUserRole(userId: string, role: Role): Promise<void> {
  const u = await existing(userId);
  if (u.role === "admin" && role !== "admin") await assertAnotherAdmin(userId, "demote");
  await (await db()).user.update({ where: { id: userId }, data: { role } });
}

/** A blocked user's sessions end at once; their tokens stop working (principal.ts checks the flag). */
export async function setUserBlocked(userId: string, blocked: boolean): Promise<void> {
  const u = await existing(userId);
  if (blocked && u.role === "admin") await assertAnotherAdmin(userId, "block");
  const client = await db();
  await client.user.update({ where: { id: userId }, data: { banned: blocked, banReason: blocked ? "blocked by an admin" : null } });
  if (blocked) await client.session.deleteMany({ where: { userId } });
}

/** Removes the account, its sessions and tokens; what it created stays (its creator column shows no name). */
export async function removeUser(userId: string): Promise<void> {
  const u = await existing(userId);
  if (u.role === "admin") await assertAnotherAdmin(userId, "remove");
  await (await db()).user.delete({ where: { id: userId } });
}
