// Accounts end to end below the browser: the first-admin link, invitations,
// Better Auth sessions (cookie flags, logout, expiry), sign-in rate limits,
// personal API tokens (scope capped by the owner's role, revocation), blocked
// users, and the single sign-on configuration.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { TRPCError } from "@trpc/server";
import { createCaller } from "../../../server/api/root";
import { createContext } from "../../../server/api/trpc";
import { db } from "../../../server/db/client";
import { env, resetEnvCache } from "../../../server/env";
import { authForRequest, getAuth, OIDC_PROVIDER_ID, resetAuthCache, SIGN_IN_REQUESTS_PER_MINUTE } from "../../../server/services/auth/auth";
import { acceptInvite, createInvite, describeInvite, firstAdminLink } from "../../../server/services/auth/invites";
import { MAX_FAILED_SIGN_INS, resetSignInThrottle } from "../../../server/services/auth/login-throttle";
import { authSecretFile } from "../../../server/services/auth/secret";
import { createUser, signInCookie, TEST_PASSWORD } from "../../support/auth";
import { freshDataDir } from "../scores/helpers";

const dataDir = freshDataDir("ms-accounts-");
after(() => dataDir.cleanup());

const callerWith = async (h: Headers) => createCaller(await createContext({ headers: h }));
const tokenFrom = (url: string) => new URL(url).searchParams.get("token")!;

function signInRequest(email: string, password: string, ip: string): Request {
  return new Request("http://localhost:3000/api/auth/sign-in/email", {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": ip },
    body: JSON.stringify({ email, password }),
  });
}

describe("first admin", () => {
  it("should print a one-time link while there is no account, and make its opener admin", async () => {
    const first = await firstAdminLink();
    assert.ok(first);
    assert.match(first.url, /^http:\/\/localhost:3000\/setup\?token=[A-Za-z0-9_-]{43}$/);
    const second = await firstAdminLink(); // a restart: only the newest link opens
    await assert.rejects(describeInvite(tokenFrom(first.url)), /not valid/);
    assert.deepEqual({ ...(await describeInvite(tokenFrom(second!.url))), expiresAt: null }, { email: null, role: "admin", firstAdmin: true, expiresAt: null });

    const anon = await callerWith(new Headers());
    assert.equal((await anon.auth.signInOptions()).needsFirstAdmin, true);
    await assert.rejects(anon.auth.acceptInvite({ token: tokenFrom(second!.url), name: "Ada", email: "ada@lab.test", password: "short" }), /at least 10 characters/);
    const r = await anon.auth.acceptInvite({ token: tokenFrom(second!.url), name: "Ada", email: "Ada@Lab.test", password: TEST_PASSWORD });
    assert.deepEqual(r, { email: "ada@lab.test", role: "admin" });
    await assert.rejects(anon.auth.acceptInvite({ token: tokenFrom(second!.url), name: "Eve", email: "eve@lab.test", password: TEST_PASSWORD }), /already used/);
    assert.equal(await firstAdminLink(), null, "no link once an account exists");
    assert.equal((await anon.auth.signInOptions()).needsFirstAdmin, false);
    const me = await (await callerWith(new Headers({ cookie: await signInCookie("ada@lab.test") }))).account.me();
    assert.equal(me.role, "admin");
    // The cookie secret was created once, readable by its owner only.
    assert.equal(statSync(authSecretFile()).mode & 0o777, 0o600);
  });

  it("should refuse an invitation for someone else's email, an expired one and a made-up one", async () => {
    const inv = await createInvite({ email: "bob@lab.test", role: "researcher" });
    await assert.rejects(acceptInvite(inv.token, { name: "Mallory", email: "mallory@lab.test", password: TEST_PASSWORD }), /this invitation is for bob@lab.test/);
    const old = await createInvite({ email: "old@lab.test", role: "viewer", ttlHours: -1 });
    await assert.rejects(describeInvite(old.token), /expired/);
    await assert.rejects(describeInvite("x".repeat(43)), /not valid/);
    await assert.rejects(createInvite({ email: "ada@lab.test", role: "viewer" }), /already exists/);
  });
});

describe("sessions", () => {
  it("should set an HttpOnly SameSite=Lax cookie (Secure over https), end it at logout, and expire it", async () => {
    const { email } = await createUser("viewer");
    const plain = await getAuth(false);
    const res = await plain.api.signInEmail({ body: { email, password: TEST_PASSWORD }, asResponse: true });
    const cookie = res.headers.getSetCookie().find((c) => c.includes("session_token"))!;
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
    assert.doesNotMatch(cookie, /Secure/i);
    assert.match(cookie, new RegExp(`Max-Age=${7 * 24 * 3600}`));

    const behindTls = await authForRequest(new Headers({ "x-forwarded-proto": "https" }), "http://127.0.0.1:3000/api/auth/sign-in/email");
    const tlsRes = await behindTls.api.signInEmail({ body: { email, password: TEST_PASSWORD }, asResponse: true });
    assert.match(tlsRes.headers.getSetCookie().find((c) => c.includes("session_token"))!, /^__Secure-.*;.*Secure/i);

    const h = new Headers({ cookie: cookie.split(";")[0]! });
    assert.equal((await (await callerWith(h)).account.me()).email, email);
    await plain.api.signOut({ headers: h });
    await assert.rejects((await callerWith(h)).account.me(), (e: unknown) => e instanceof TRPCError && e.code === "UNAUTHORIZED");

    const h2 = new Headers({ cookie: await signInCookie(email) });
    await (await db()).session.updateMany({ where: { user: { email } }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await assert.rejects((await callerWith(h2)).account.me(), (e: unknown) => e instanceof TRPCError && e.code === "UNAUTHORIZED");
  });

  it("should refuse open sign-up: accounts come from invitations only", async () => {
    const auth = await getAuth();
    await assert.rejects(auth.api.signUpEmail({ body: { email: "walk-in@lab.test", password: TEST_PASSWORD, name: "Walk In" } }), /sign ?up|disabled|not allowed/i);
  });

  it("should block a user: sessions end, sign-in and tokens are refused, and the last admin stays", async () => {
    const { email } = await createUser("researcher");
    const h = new Headers({ cookie: await signInCookie(email) });
    const admin = await callerWith(new Headers({ cookie: await signInCookie("ada@lab.test") }));
    const token = (await (await callerWith(h)).account.tokens.create({ name: "cli", role: "researcher" })).token;
    const user = (await admin.admin.users.list()).find((u) => u.email === email)!;
    await admin.admin.users.setBlocked({ userId: user.id, blocked: true });
    await assert.rejects((await callerWith(h)).account.me(), /sign in|refused|account/i);
    await assert.rejects((await callerWith(new Headers({ authorization: `Bearer ${token}` }))).jobs.list(), /refused/);
    await assert.rejects(signInCookie(email), /failed/);
    const ada = (await admin.admin.users.list()).find((u) => u.email === "ada@lab.test")!;
    await assert.rejects(admin.admin.users.setRole({ userId: ada.id, role: "viewer" }), /last admin/);
    await assert.rejects(admin.admin.users.remove({ userId: ada.id }), /last admin/);
  });
});

describe("Better Auth's own endpoints", () => {
  it("should not let a viewer raise their role or mint a stronger token through /api/auth", async () => {
    const { email } = await createUser("viewer");
    const cookie = await signInCookie(email);
    const auth = await getAuth();
    const post = (p: string, body: unknown) =>
      auth.handler(new Request(`http://localhost:3000/api/auth${p}`, { method: "POST", headers: { "content-type": "application/json", cookie, origin: "http://localhost:3000" }, body: JSON.stringify(body) }));
    const me = await (await db()).user.findUniqueOrThrow({ where: { email } });
    await post("/update-user", { role: "admin", name: "Still Viewer" });
    assert.equal((await (await db()).user.findUniqueOrThrow({ where: { email } })).role, "viewer");
    assert.equal((await post("/admin/set-role", { userId: me.id, role: "admin" })).status, 403);
    assert.equal((await post("/admin/create-user", { email: "sneaky@lab.test", password: TEST_PASSWORD, name: "Sneaky", role: "admin" })).status, 403);
    assert.equal((await post("/api-key/create", { name: "x", permissions: { mergescope: ["admin"] } })).status, 400);
    // A key made through the plugin's endpoint (not our UI) can only read.
    const made = (await (await post("/api-key/create", { name: "plain" })).json()) as { key: string };
    const asKey = await callerWith(new Headers({ authorization: `Bearer ${made.key}` }));
    assert.equal((await asKey.account.me()).role, "viewer");
    // And a cross-site form post cannot use the session.
    const csrf = await auth.handler(
      new Request("http://localhost:3000/api/auth/update-user", { method: "POST", headers: { "content-type": "application/json", cookie, origin: "https://evil.example" }, body: JSON.stringify({ name: "Pwned" }) }),
    );
    assert.equal(csrf.status, 403);
  });
});

describe("sign-in rate limits", () => {
  it("should stop password guessing on one account, whatever address it comes from", async () => {
    resetSignInThrottle();
    const { email } = await createUser("viewer");
    const auth = await getAuth();
    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++) {
      const r = await auth.handler(signInRequest(email, `wrong password ${i}`, `127.0.1.${i}`));
      assert.equal(r.status, 401, `attempt ${i + 1}`);
    }
    const blocked = await auth.handler(signInRequest(email, TEST_PASSWORD, "127.0.2.1"));
    assert.equal(blocked.status, 429);
    assert.match(await blocked.text(), /too many failed sign-ins/);
    // Another account is not affected.
    const other = await createUser("viewer");
    assert.equal((await auth.handler(signInRequest(other.email, TEST_PASSWORD, "127.0.2.2"))).status, 200);
  });

  it("should limit sign-in requests per client address", async () => {
    resetSignInThrottle();
    const auth = await getAuth();
    const statuses: number[] = [];
    for (let i = 0; i <= SIGN_IN_REQUESTS_PER_MINUTE; i++) statuses.push((await auth.handler(signInRequest(`nobody${i}@lab.test`, "wrong password", "127.0.3.3"))).status);
    assert.deepEqual(new Set(statuses.slice(0, SIGN_IN_REQUESTS_PER_MINUTE)), new Set([401]));
    assert.equal(statuses.at(-1), 429);
  });
});

describe("personal API tokens", () => {
  it("should act for their owner with a scope capped by the owner's role, and stop when revoked", async () => {
    const { email } = await createUser("researcher");
    const me = await callerWith(new Headers({ cookie: await signInCookie(email) }));
    await assert.rejects(me.account.tokens.create({ name: "too much", role: "admin" }), /cannot have more rights than its owner/);
    const full = await me.account.tokens.create({ name: "cli", role: "researcher", expiresInDays: 30 });
    assert.match(full.token, /^msk_[A-Za-z]{64}$/);
    const readOnly = await me.account.tokens.create({ name: "dashboard", role: "viewer" });
    const rows = await me.account.tokens.list();
    assert.deepEqual(rows.map((r) => [r.name, r.role]).sort(), [["cli", "researcher"], ["dashboard", "viewer"]]);
    assert.ok(rows.every((r) => !("token" in r)), "the secret is shown once only");
    assert.ok((await (await db()).apikey.findMany()).every((k) => !k.key.includes(full.token.slice(4))), "only a hash is stored");

    const asFull = await callerWith(new Headers({ authorization: `Bearer ${full.token}` }));
    assert.equal((await asFull.account.me()).via, "token");
    const enq = await asFull.jobs.list();
    assert.ok(Array.isArray(enq));
    await assert.rejects(asFull.scores.catalogue.reset(), /needs the admin role; this token acts as researcher/);
    const asReader = await callerWith(new Headers({ "x-api-key": readOnly.token }));
    await assert.rejects(asReader.experiments.delete({ id: "x" }), /needs the researcher role; this token acts as viewer/);

    // Demoting the owner demotes the token.
    const admin = await callerWith(new Headers({ cookie: await signInCookie("ada@lab.test") }));
    const owner = (await admin.admin.users.list()).find((u) => u.email === email)!;
    await admin.admin.users.setRole({ userId: owner.id, role: "viewer" });
    await assert.rejects((await callerWith(new Headers({ authorization: `Bearer ${full.token}` }))).experiments.delete({ id: "x" }), /acts as viewer/);

    await me.account.tokens.revoke({ id: full.id });
    await assert.rejects((await callerWith(new Headers({ authorization: `Bearer ${full.token}` }))).jobs.list(), (e: unknown) => e instanceof TRPCError && e.code === "UNAUTHORIZED" && /token was refused/.test(e.message));
    await assert.rejects(me.account.tokens.revoke({ id: readOnly.id + "x" }), /no token/);
    await assert.rejects((await callerWith(new Headers({ authorization: "Bearer msk_madeup" }))).jobs.list(), /token was refused/);
  });
});

describe("single sign-on (OpenID Connect) configuration", () => {
  const saved = { ...process.env };
  after(() => {
    process.env = { ...saved };
    resetEnvCache();
    resetAuthCache();
  });

  it("should need issuer, client id and secret together", () => {
    process.env.MERGESCOPE_OIDC_ISSUER = "https://sso.lab.test/realms/lab";
    resetEnvCache();
    assert.throws(() => env(), /MERGESCOPE_OIDC_CLIENT_ID: single sign-on needs MERGESCOPE_OIDC_ISSUER, _CLIENT_ID and _CLIENT_SECRET together/);
    process.env.MERGESCOPE_OIDC_ISSUER = "ftp://sso";
    process.env.MERGESCOPE_OIDC_CLIENT_ID = "mergescope";
    process.env.MERGESCOPE_OIDC_CLIENT_SECRET = "s3cret";
    resetEnvCache();
    assert.throws(() => env(), /MERGESCOPE_OIDC_ISSUER: must be the provider's http\(s\) issuer URL/);
  });

  it("should offer the provider on the sign-in page and send its sign-in to the discovered authorization endpoint", async () => {
    // A stand-in identity provider on loopback: only its discovery document.
    const idp = createServer((req, res) => {
      const base = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/realms/lab`;
      if (req.url !== "/realms/lab/.well-known/openid-configuration") return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({ issuer: base, authorization_endpoint: `${base}/auth`, token_endpoint: `${base}/token`, userinfo_endpoint: `${base}/userinfo`, jwks_uri: `${base}/certs`, id_token_signing_alg_values_supported: ["RS256"] }),
      );
    });
    await new Promise<void>((r) => idp.listen(0, "127.0.0.1", r));
    try {
      const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/realms/lab`;
      process.env.MERGESCOPE_OIDC_ISSUER = `${issuer}/`;
      process.env.MERGESCOPE_OIDC_CLIENT_ID = "mergescope";
      process.env.MERGESCOPE_OIDC_CLIENT_SECRET = "s3cret";
      process.env.MERGESCOPE_OIDC_NAME = "Lab SSO";
      process.env.MERGESCOPE_OIDC_ROLE = "researcher";
      resetEnvCache();
      resetAuthCache();
      assert.equal(env().oidc?.discoveryUrl, `${issuer}/.well-known/openid-configuration`);
      const opts = await (await callerWith(new Headers())).auth.signInOptions();
      assert.deepEqual(opts.sso, { providerId: OIDC_PROVIDER_ID, name: "Lab SSO" });
      const auth = await getAuth();
      assert.equal((auth.options.plugins!.find((p) => p.id === "admin") as unknown as { options: { defaultRole: string } }).options.defaultRole, "researcher");
      const res = await auth.handler(
        new Request("http://localhost:3000/api/auth/sign-in/social", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ provider: OIDC_PROVIDER_ID, callbackURL: "/v/abc" }) }),
      );
      assert.equal(res.status, 200, await res.clone().text());
      const go = new URL(((await res.json()) as { url: string }).url);
      assert.equal(`${go.origin}${go.pathname}`, `${issuer}/auth`);
      assert.equal(go.searchParams.get("client_id"), "mergescope");
      assert.equal(go.searchParams.get("redirect_uri"), `http://localhost:3000/api/auth/callback/${OIDC_PROVIDER_ID}`);
      assert.equal(go.searchParams.get("code_challenge_method"), "S256");
      assert.match(go.searchParams.get("scope") ?? "", /openid.*email.*profile/);
    } finally {
      idp.close();
    }
  });
});
