// Secrets that travel in links (invitations, public view links): 256 random
// bits, base64url; only their SHA-256 is stored, so the database alone does not
// open any link.
import { createHash, randomBytes } from "node:crypto";

export function newLinkToken(): string {
  return randomBytes(32).toString("base64url");
}

export function hashLinkToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A link token is 43 base64url characters; anything else is refused before a lookup. */
export function isLinkTokenShaped(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}
