// Accounts for the e2e tests, made the way a lab makes them: `mergescope user
// add` on the server's database prints a one-time link, the link's token is
// accepted with a password (auth.acceptInvite), and Better Auth signs in. The
// signed-in cookies are saved as a Playwright storage state per role.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { request as playwrightRequest, type APIRequestContext } from "@playwright/test";

export type Role = "viewer" | "researcher" | "admin";
export const E2E_PASSWORD = "e2e password 1234";

export function e2eBaseURL(): string {
  return `http://127.0.0.1:${Number(process.env.E2E_PORT ?? 3210)}`;
}

/** `mergescope user add` against the e2e server's data directory; returns the printed one-time link. */
export function userAddLink(args: string[]): string {
  const out = execFileSync(process.execPath, [path.resolve("bin/mergescope.mjs"), "user", "add", ...args, "--json"], {
    env: { ...process.env, MERGESCOPE_DATA_DIR: process.env.E2E_DATA_DIR!, PORT: String(process.env.E2E_PORT ?? 3210) },
    encoding: "utf8",
  });
  return (JSON.parse(out) as { url: string }).url;
}

export async function acceptLink(request: APIRequestContext, url: string, name: string, email: string | null, password = E2E_PASSWORD): Promise<void> {
  const token = new URL(url).searchParams.get("token");
  const res = await request.post("/api/trpc/auth.acceptInvite", { data: { json: { token, name, email, password } }, headers: { origin: e2eBaseURL() } });
  if (!res.ok()) throw new Error(`accepting the invitation failed (${res.status()}): ${await res.text()}`);
}

export async function signIn(request: APIRequestContext, email: string, password = E2E_PASSWORD): Promise<void> {
  const res = await request.post("/api/auth/sign-in/email", { data: { email, password }, headers: { origin: e2eBaseURL() } });
  if (!res.ok()) throw new Error(`signing in ${email} failed (${res.status()}): ${await res.text()}`);
}

/** A new account with this role, signed in; its storage state is written to `stateFile`. */
export async function createSignedInAccount(role: Role, email: string, stateFile: string): Promise<{ email: string; stateFile: string }> {
  const ctx = await playwrightRequest.newContext({ baseURL: e2eBaseURL(), storageState: { cookies: [], origins: [] } });
  try {
    await acceptLink(ctx, userAddLink([email, "--role", role]), `${role[0]!.toUpperCase()}${role.slice(1)} E2E`, null);
    await signIn(ctx, email);
    await ctx.storageState({ path: stateFile });
  } finally {
    await ctx.dispose();
  }
  return { email, stateFile };
}
