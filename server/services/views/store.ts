// Saved views behind short links (/v/<id>): the path and search params of an
// analysis view, stored as JSON in the SavedView table under a short random
// base62 id. Only MergeScope's own chart pages can be saved (no open redirect).
import { randomInt } from "node:crypto";
import { z } from "zod";
import { db } from "../../db/client";
import { AppError } from "../../errors";
import { userLabels } from "../auth/users";

/** Pages whose whole state lives in the URL and that a short link may point to. */
export const SHAREABLE_PATHS = ["/analysis", "/analysis/compare"] as const;
export const MAX_QUERY_CHARS = 16_000;
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const VIEW_ID_LENGTH = 8;
export const viewIdSchema = z.string().regex(/^[0-9A-Za-z]{4,32}$/, "a short link id is 4–32 letters and digits");

export const viewStateSchema = z.object({
  path: z.enum(SHAREABLE_PATHS),
  /** The search params without the leading "?" (as the address bar has them). */
  query: z.string().max(MAX_QUERY_CHARS),
});
export type ViewState = z.infer<typeof viewStateSchema>;

export const savedViewSchema = z.object({
  id: z.string(),
  state: viewStateSchema,
  url: z.string(),
  createdAt: z.date(),
  /** Who saved it (name, else email); null for views saved before accounts existed or by a removed user. */
  createdBy: z.string().nullable(),
});
export type SavedViewOut = z.infer<typeof savedViewSchema>;

export function newViewId(length = VIEW_ID_LENGTH): string {
  let id = "";
  for (let i = 0; i < length; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

/** The relative URL a state stands for. */
export function viewUrl(state: ViewState): string {
  const q = state.query.replace(/^\?/, "");
  return q ? `${state.path}?${q}` : state.path;
}

function normalize(state: ViewState): ViewState {
  // Re-serialise through URLSearchParams so what is stored is a plain query string.
  const q = new URLSearchParams(state.query.replace(/^\?/, ""));
  return { path: state.path, query: q.toString() };
}

/** Saves a view for its creator; the same state saved twice by the same person returns the same short link. */
export async function createView(input: ViewState, createdById: string | null = null): Promise<SavedViewOut> {
  const state = normalize(viewStateSchema.parse(input));
  const json = JSON.stringify(state);
  const client = await db();
  const existing = await client.savedView.findFirst({ where: { state: json, createdById }, orderBy: { createdAt: "asc" } });
  const createdBy = createdById ? ((await userLabels([createdById])).get(createdById) ?? null) : null;
  if (existing) return { id: existing.id, state, url: viewUrl(state), createdAt: existing.createdAt, createdBy };
  for (let attempt = 0; attempt < 5; attempt++) {
    const id = newViewId();
    try {
      const row = await client.savedView.create({ data: { id, state: json, createdById } });
      return { id: row.id, state, url: viewUrl(state), createdAt: row.createdAt, createdBy };
    } catch (err) {
      if ((err as { code?: string }).code !== "P2002") throw err; // id collision: draw again
    }
  }
  throw new AppError("INTERNAL", "could not allocate a short link id; try again");
}

export async function getView(id: string): Promise<SavedViewOut> {
  const parsedId = viewIdSchema.safeParse(id);
  if (!parsedId.success) throw new AppError("NOT_FOUND", `no saved view '${id}'`);
  const client = await db();
  const row = await client.savedView.findUnique({ where: { id: parsedId.data } });
  if (!row) throw new AppError("NOT_FOUND", `no saved view '${id}'; the link may be mistyped`);
  let state: ViewState;
  try {
    state = viewStateSchema.parse(JSON.parse(row.state));
  } catch {
    throw new AppError("INTERNAL", `saved view '${id}' is not readable`);
  }
  const createdBy = row.createdById ? ((await userLabels([row.createdById])).get(row.createdById) ?? null) : null;
  return { id: row.id, state, url: viewUrl(state), createdAt: row.createdAt, createdBy };
}
