// Registered models by folder: the ids an analysis records next to its input paths.
import { realpathSync } from "node:fs";
import path from "node:path";
import type { DbTx } from "../../db/client";

/** The spellings a folder may be registered under: as written (normalized) and its real path. */
export function folderSpellings(p: string): string[] {
  const norm = path.normalize(p).replace(/\/+$/, "") || "/";
  let real = norm;
  try {
    real = realpathSync(norm);
  } catch {
    // gone or unreadable: only the written spelling can match
  }
  return real === norm ? [norm] : [norm, real];
}

/** For each path, the id of the model registered at it (either spelling), else null. */
export async function registeredModelIds(tx: DbTx, paths: readonly string[]): Promise<(string | null)[]> {
  const spellings = paths.map(folderSpellings);
  const rows = await tx.model.findMany({ where: { path: { in: [...new Set(spellings.flat())] } }, select: { id: true, path: true } });
  const byPath = new Map(rows.map((r) => [r.path, r.id]));
  return spellings.map((s) => s.map((x) => byPath.get(x)).find((id) => id !== undefined) ?? null);
}
