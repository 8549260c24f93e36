// Personal API tokens for the commands that talk to a server: MERGESCOPE_TOKEN,
// else the token `mergescope login` stored for that server in
// $XDG_CONFIG_HOME/mergescope/credentials.json (default ~/.config/…), a file
// only its owner can read (0600, folder 0700).
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

interface Stored {
  servers: Record<string, { token: string; email?: string; savedAt: string }>;
}

export function credentialsFile(): string {
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config");
  return path.join(base, "mergescope", "credentials.json");
}

function read(): Stored {
  try {
    const parsed = JSON.parse(readFileSync(credentialsFile(), "utf8")) as Partial<Stored>;
    return { servers: typeof parsed.servers === "object" && parsed.servers ? parsed.servers : {} };
  } catch {
    return { servers: {} };
  }
}

function write(data: Stored): void {
  const file = credentialsFile();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function storedToken(server: string): string | null {
  return read().servers[server]?.token ?? null;
}

export function storeToken(server: string, token: string, email?: string): string {
  const data = read();
  data.servers[server] = { token, ...(email ? { email } : {}), savedAt: new Date().toISOString() };
  write(data);
  return credentialsFile();
}

export function forgetToken(server: string): boolean {
  const data = read();
  if (!data.servers[server]) return false;
  delete data.servers[server];
  write(data);
  return true;
}

/** The token for a server: MERGESCOPE_TOKEN wins over the stored one. */
export function tokenFor(server: string): { token: string; source: "MERGESCOPE_TOKEN" | "login" } | null {
  const fromEnv = process.env.MERGESCOPE_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, source: "MERGESCOPE_TOKEN" };
  const stored = storedToken(server);
  return stored ? { token: stored, source: "login" } : null;
}
