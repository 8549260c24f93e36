// Personal API tokens for the CLI and scripts (Better Auth's API-key plugin:
// random 64-character keys, only a hash stored, shown once). Each token carries
// a role scope no higher than its owner's role at creation; when used, it acts
// with the lesser of that scope and the owner's current role.
import { AppError } from "../../errors";
import { db } from "../../db/client";
import { getAuth, TOKEN_SCOPE_KEY } from "./auth";
import { hasRole, minRole, parseRole, type Role } from "./roles";
import type { TokenRow } from "./schemas";

export const MAX_TOKENS_PER_USER = 50;

function scopeOf(permissions: string | Record<string, string[]> | null | undefined): Role {
  let p = permissions;
  if (typeof p === "string") {
    try {
      p = JSON.parse(p) as Record<string, string[]>;
    } catch {
      p = null;
    }
  }
  return parseRole(p?.[TOKEN_SCOPE_KEY]?.[0]);
}

type ApikeyRow = { id: string; name: string | null; start: string | null; permissions: string | null; expiresAt: Date | null; lastRequest: Date | null; createdAt: Date };

function toRow(k: ApikeyRow): TokenRow {
  return { id: k.id, name: k.name ?? "", start: k.start, role: scopeOf(k.permissions), expiresAt: k.expiresAt, lastUsedAt: k.lastRequest, createdAt: k.createdAt };
}

export async function createToken(owner: { id: string; role: Role }, input: { name: string; role: Role; expiresInDays?: number | null }): Promise<TokenRow & { token: string }> {
  if (!hasRole(owner.role, input.role)) throw new AppError("BAD_INPUT", `a token cannot have more rights than its owner: you are ${owner.role}, the token asks for ${input.role}`);
  const client = await db();
  if ((await client.apikey.count({ where: { referenceId: owner.id } })) >= MAX_TOKENS_PER_USER)
    throw new AppError("CONFLICT", `you have ${MAX_TOKENS_PER_USER} tokens already: revoke unused ones first`);
  const auth = await getAuth();
  const created = await auth.api.createApiKey({
    body: {
      userId: owner.id,
      name: input.name,
      permissions: { [TOKEN_SCOPE_KEY]: [input.role] },
      ...(input.expiresInDays ? { expiresIn: Math.round(input.expiresInDays * 86400) } : {}),
    },
  });
  const row = await client.apikey.findUniqueOrThrow({ where: { id: created.id } });
  return { ...toRow(row), token: created.key };
}

export async function listTokens(ownerId: string): Promise<TokenRow[]> {
  const rows = await (await db()).apikey.findMany({ where: { referenceId: ownerId }, orderBy: { createdAt: "desc" } });
  return rows.map(toRow);
}

export async function revokeToken(ownerId: string, tokenId: string): Promise<void> {
  const r = await (await db()).apikey.deleteMany({ where: { id: tokenId, referenceId: ownerId } });
  if (r.count === 0) throw new AppError("NOT_FOUND", `you have no token ${tokenId}`);
}

/** The account a token acts for, with its effective role; null for an unknown, expired, disabled or blocked one. */
export async function verifyToken(key: string): Promise<{ userId: string; role: Role; tokenId: string } | null> {
  if (key.length < 16 || key.length > 512) return null;
  const auth = await getAuth();
  const r = await auth.api.verifyApiKey({ body: { key } });
  if (!r.valid || !r.key) return null;
  const user = await (await db()).user.findUnique({ where: { id: r.key.referenceId }, select: { id: true, role: true, banned: true } });
  if (!user || user.banned) return null;
  return { userId: user.id, role: minRole(scopeOf(r.key.permissions as Record<string, string[]> | null), parseRole(user.role)), tokenId: r.key.id };
}
