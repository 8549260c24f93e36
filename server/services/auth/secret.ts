// The secret that signs session cookies: MERGESCOPE_AUTH_SECRET, else a random
// one created once in <data dir>/auth-secret (mode 0600) so a laptop needs no
// setting and restarts keep everyone signed in.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { env } from "../../env";

export function authSecretFile(): string {
  return path.join(env().dataDir, "auth-secret");
}

export function authSecret(): string {
  const configured = env().MERGESCOPE_AUTH_SECRET;
  if (configured) return configured;
  const file = authSecretFile();
  try {
    return readFileSync(file, "utf8").trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  try {
    writeFileSync(file, randomBytes(32).toString("base64url"), { flag: "wx", mode: 0o600 });
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return readFileSync(file, "utf8").trim();
}
