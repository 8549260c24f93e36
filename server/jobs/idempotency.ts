// A job's idempotency key: sha256 over its type, version and identity, where
// the identity includes what the inputs are on disk (size + mtime of every
// file of each model), so the same recipe on changed checkpoints is new work.
import { createHash } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";

/** JSON with sorted object keys: equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Size and mtime of a model's weight files (or of a single file). */
export function modelFingerprint(modelPath: string): string {
  try {
    const st = statSync(modelPath);
    if (st.isFile()) return `${st.size}:${st.mtimeMs}`;
    const parts = readdirSync(modelPath)
      .filter((f) => f.endsWith(".safetensors") || f.endsWith(".json"))
      .sort()
      .map((f) => {
        const s = statSync(path.join(modelPath, f));
        return `${f}:${s.size}:${s.mtimeMs}`;
      });
    return parts.join("|");
  } catch {
    return "missing";
  }
}

export function idempotencyKey(type: string, version: number, identity: unknown): string {
  return createHash("sha256").update(`${type}@${version}\n${canonicalJson(identity)}`).digest("hex");
}

/** modelFingerprint without blocking the event loop (enqueue runs in the web server). */
export async function modelFingerprintAsync(modelPath: string): Promise<string> {
  try {
    const st = await stat(modelPath);
    if (st.isFile()) return `${st.size}:${st.mtimeMs}`;
    const names = (await readdir(modelPath)).filter((f) => f.endsWith(".safetensors") || f.endsWith(".json")).sort();
    const parts: string[] = [];
    for (const f of names) {
      const s = await stat(path.join(modelPath, f));
      parts.push(`${f}:${s.size}:${s.mtimeMs}`);
    }
    return parts.join("|");
  } catch {
    return "missing";
  }
}
