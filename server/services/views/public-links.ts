// Read-only public links to one saved view (/p/<token>): whoever has the link
// sees that view's charts and tables without an account, and nothing else —
// the tRPC context turns the link into a "share" principal that the chart
// procedures accept only for the view's experiment. The owner (or an admin)
// can revoke a link; links may expire.
import { AppError } from "../../errors";
import { db } from "../../db/client";
import { hashLinkToken, isLinkTokenShaped, newLinkToken } from "../auth/one-time-token";
import { hasRole, type Role } from "../auth/roles";
import { userLabels } from "../auth/users";
import { getView, viewStateSchema, type ViewState } from "./store";

export interface PublicLinkScope {
  linkId: string;
  viewId: string;
  state: ViewState;
  /** The only experiment whose data the link may read. */
  experimentId: string;
}

export const MAX_PUBLIC_LINK_DAYS = 365;

export function publicLinkPath(token: string): string {
  return `/p/${token}`;
}

function experimentOf(state: ViewState): string | null {
  return new URLSearchParams(state.query).get("experiment") || null;
}

export async function createPublicLink(user: { id: string; role: Role }, input: { viewId: string; expiresInDays?: number | null }) {
  const view = await getView(input.viewId);
  const client = await db();
  const row = await client.savedView.findUniqueOrThrow({ where: { id: view.id }, select: { createdById: true } });
  if (row.createdById !== user.id && !hasRole(user.role, "admin")) throw new AppError("NOT_OWNER", "only the person who saved this view (or an admin) can make a public link to it: save the view yourself with “Short link” first");
  if (!experimentOf(view.state)) throw new AppError("BAD_INPUT", "this view shows no experiment: open an experiment's analysis and share that");
  const token = newLinkToken();
  const expiresAt = input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86400_000) : null;
  const link = await client.publicLink.create({ data: { tokenHash: hashLinkToken(token), viewId: view.id, createdById: user.id, expiresAt } });
  return { id: link.id, viewId: view.id, path: publicLinkPath(token), expiresAt, createdAt: link.createdAt };
}

export async function listPublicLinks(user: { id: string; role: Role }, input: { viewId?: string | null }) {
  const client = await db();
  const rows = await client.publicLink.findMany({
    where: { revokedAt: null, ...(input.viewId ? { viewId: input.viewId } : {}), ...(hasRole(user.role, "admin") ? {} : { createdById: user.id }) },
    orderBy: { createdAt: "desc" },
    take: 500,
  });
  const names = await userLabels(rows.map((r) => r.createdById));
  const now = Date.now();
  return rows.map((r) => ({
    id: r.id,
    viewId: r.viewId,
    createdBy: names.get(r.createdById) ?? null,
    expiresAt: r.expiresAt,
    expired: r.expiresAt !== null && r.expiresAt.getTime() <= now,
    lastUsedAt: r.lastUsedAt,
    createdAt: r.createdAt,
  }));
}

export async function revokePublicLink(user: { id: string; role: Role }, id: string): Promise<void> {
  const client = await db();
  const r = await client.publicLink.updateMany({
    where: { id, revokedAt: null, ...(hasRole(user.role, "admin") ? {} : { createdById: user.id }) },
    data: { revokedAt: new Date() },
  });
  if (r.count === 0) throw new AppError("NOT_FOUND", `you have no active public link ${id}`);
}

/** The view a public link opens, or null (unknown, revoked, expired). */
export async function resolvePublicLink(token: string): Promise<PublicLinkScope | null> {
  if (!isLinkTokenShaped(token)) return null;
  const client = await db();
  const link = await client.publicLink.findUnique({ where: { tokenHash: hashLinkToken(token) }, include: { view: true } });
  if (!link || link.revokedAt || (link.expiresAt && link.expiresAt.getTime() <= Date.now())) return null;
  const parsed = viewStateSchema.safeParse(JSON.parse(link.view.state));
  if (!parsed.success) return null;
  const experimentId = experimentOf(parsed.data);
  if (!experimentId) return null;
  // Last use, at most once a minute per link.
  if (!link.lastUsedAt || Date.now() - link.lastUsedAt.getTime() > 60_000)
    await client.publicLink.update({ where: { id: link.id }, data: { lastUsedAt: new Date() } }).catch(() => {});
  return { linkId: link.id, viewId: link.viewId, state: parsed.data, experimentId };
}
