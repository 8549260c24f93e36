// Accounts and sessions, by Better Auth over the Prisma client: email +
// password (scrypt), optional OpenID Connect single sign-on, HttpOnly SameSite=Lax
// session cookies (Secure over https), sign-in rate limits, the admin plugin
// (roles, bans) and the API-key plugin (personal tokens). Accounts are created
// only from invitations (services/auth/invites.ts): open sign-up is off.
import { apiKey } from "@better-auth/api-key";
import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { APIError, createAuthMiddleware } from "better-auth/api";
import { admin } from "better-auth/plugins/admin";
import { adminAc, defaultStatements } from "better-auth/plugins/admin/access";
import { createAccessControl } from "better-auth/plugins/access";
import { genericOAuth } from "better-auth/plugins/generic-oauth";
import { db, type Db } from "../../db/client";
import { env } from "../../env";
import { recordSignIn, signInBlockedFor } from "./login-throttle";
import { authSecret } from "./secret";

/** The OIDC provider's id in callback URLs: <public URL>/api/auth/callback/oidc (better-auth 1.7: the core callback/:id route). */
export const OIDC_PROVIDER_ID = "oidc";
/** Personal API tokens start with this, so a leaked one is recognisable. */
export const TOKEN_PREFIX = "msk_";
/** Where a token's role scope is kept (the plugin's server-only `permissions`). */
export const TOKEN_SCOPE_KEY = "mergescope";
/** Sign-in requests per client IP per minute (Better Auth's limiter; failures per account are counted separately). */
export const SIGN_IN_REQUESTS_PER_MINUTE = 30;

const ac = createAccessControl(defaultStatements);

function authOptions(client: Db, secure: boolean) {
  const e = env();
  const sessionSeconds = Math.round(e.MERGESCOPE_SESSION_DAYS * 24 * 3600);
  return {
    appName: "MergeScope",
    secret: authSecret(),
    // Without a public URL the address is taken from each request (the Host allowlist guards which hosts reach us).
    baseURL: e.MERGESCOPE_PUBLIC_URL,
    basePath: "/api/auth",
    database: prismaAdapter(client, { provider: "sqlite" }),
    telemetry: { enabled: false },
    emailAndPassword: { enabled: true, disableSignUp: true, minPasswordLength: 10, maxPasswordLength: 256 },
    session: {
      expiresIn: sessionSeconds,
      // A sign-in lasts expiresIn; the cookie and the database row expire together.
      disableSessionRefresh: true,
      cookieCache: { enabled: false },
    },
    rateLimit: {
      enabled: true,
      storage: "memory" as const,
      window: 60,
      max: 300,
      customRules: { "/sign-in/*": { window: 60, max: SIGN_IN_REQUESTS_PER_MINUTE } },
    },
    advanced: {
      useSecureCookies: secure,
      // X-Forwarded-Host/-Proto from a TLS reverse proxy name the address the browser used.
      trustedProxyHeaders: true,
      defaultCookieAttributes: { httpOnly: true, sameSite: "lax" as const },
    },
    logger: {
      level: "warn" as const,
      log: (level: string, message: string) => {
        if (message.includes("Base URL is not set")) return; // intended: see baseURL above
        (level === "error" ? console.error : console.warn)(`[auth] ${message}`);
      },
    },
    hooks: {
      before: createAuthMiddleware(async (ctx) => {
        if (ctx.path !== "/sign-in/email") return;
        const email = typeof ctx.body?.email === "string" ? ctx.body.email : "";
        const wait = signInBlockedFor(email);
        if (wait > 0)
          throw new APIError("TOO_MANY_REQUESTS", { message: `too many failed sign-ins for ${email}: try again in ${Math.ceil(wait / 60)} minute(s)` });
      }),
      after: createAuthMiddleware(async (ctx) => {
        if (ctx.path !== "/sign-in/email") return;
        const email = typeof ctx.body?.email === "string" ? ctx.body.email : "";
        if (email) recordSignIn(email, !!ctx.context.newSession);
      }),
    },
    plugins: [
      admin({
        ac,
        roles: { admin: adminAc, researcher: ac.newRole({ user: [], session: [] }), viewer: ac.newRole({ user: [], session: [] }) },
        adminRoles: ["admin"],
        // Accounts from a first single sign-on; invitations always name their role.
        defaultRole: e.oidc?.role ?? "viewer",
      }),
      apiKey({
        defaultPrefix: TOKEN_PREFIX,
        requireName: true,
        enableMetadata: false,
        // Tokens are checked by services/auth/principal.ts, which caps their scope by the owner's role.
        enableSessionForAPIKeys: false,
        rateLimit: { enabled: false },
        keyExpiration: { minExpiresIn: 1, maxExpiresIn: 365 },
        // A token made through Better Auth's own endpoint (not our UI) can only read.
        permissions: { defaultPermissions: { [TOKEN_SCOPE_KEY]: ["viewer"] } },
      }),
      ...(e.oidc
        ? [
            genericOAuth({
              config: [
                {
                  providerId: OIDC_PROVIDER_ID,
                  discoveryUrl: e.oidc.discoveryUrl,
                  clientId: e.oidc.clientId,
                  clientSecret: e.oidc.clientSecret,
                  scopes: ["openid", "email", "profile"],
                  pkce: true,
                },
              ],
            }),
          ]
        : []),
    ],
  };
}

function createAuth(client: Db, secure: boolean) {
  return betterAuth(authOptions(client, secure));
}
export type Auth = ReturnType<typeof createAuth>;

const cache = globalThis as unknown as { mergescopeAuth?: Map<boolean, Promise<Auth>> };

/**
 * The Better Auth instance for a request: cookies are Secure when the browser
 * talks https (MERGESCOPE_PUBLIC_URL is https, or a TLS proxy says
 * X-Forwarded-Proto: https). Both instances share the database.
 */
export function getAuth(secure = false): Promise<Auth> {
  cache.mergescopeAuth ??= new Map();
  let p = cache.mergescopeAuth.get(secure);
  if (!p) {
    p = db().then((client) => createAuth(client, secure));
    p.catch(() => cache.mergescopeAuth?.delete(secure));
    cache.mergescopeAuth.set(secure, p);
  }
  return p;
}

/** Whether the browser reached us over https (directly or through a TLS proxy). */
export function isSecureRequest(headers: Headers, url?: string): boolean {
  const publicUrl = env().MERGESCOPE_PUBLIC_URL;
  if (publicUrl) return publicUrl.startsWith("https://");
  if (headers.get("x-forwarded-proto")?.split(",")[0]?.trim() === "https") return true;
  return url?.startsWith("https://") ?? false;
}

export function authForRequest(headers: Headers, url?: string): Promise<Auth> {
  return getAuth(isSecureRequest(headers, url));
}

/** Tests switch environments between cases. */
export function resetAuthCache(): void {
  cache.mergescopeAuth = undefined;
}

/** The address printed in links (first-admin link, `user add`): the public URL, else this machine's loopback address. */
export function publicBaseUrl(): string {
  const e = env();
  return (e.MERGESCOPE_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, "");
}
