// Request hygiene at the HTTP layer (the checks that run before any procedure):
// Host allowlist, Origin / Sec-Fetch-Site and content type of mutations, body
// caps per procedure, security headers — on the real tRPC route, in process —
// plus the hosts parser, HOST / MERGESCOPE_ALLOWED_HOSTS validation and the
// error formatter's sanitizing.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { z } from "zod";
import { INTERNAL_MESSAGE } from "../../../server/api/error-shape";
import { createContext, createTRPCRouter, unauthenticatedProcedure as publicProcedure } from "../../../server/api/trpc";
import { env, resetEnvCache } from "../../../server/env";
import { AppError } from "../../../server/errors";
import { bodyLimitFor, PROCEDURE_BODY_LIMITS } from "../../../server/http/body-limit";
import { checkRequest } from "../../../server/http/guard";
import { allowedHostEntries, hostAllowed, originAllowed, parseHostPort } from "../../../server/http/hosts";
import { contentSecurityPolicy, securityHeaders } from "../../../server/http/security-headers";
import { LIMITS } from "../../../server/limits";
import { closeOffloadThreads } from "../../../server/offload/pool";
import { rawRequest, startApiServer, type ApiServer } from "../../support/http-harness";
import { adminHeaders, procedurePaths } from "../../support/trpc-caller";
import { freshModelEnv } from "../models/helpers";

const fresh = freshModelEnv("ms-hygiene-");
let server: ApiServer;
/** An admin's session cookie: a mutation that passes the hygiene checks then runs. */
let cookie = "";
before(async () => {
  server = await startApiServer();
  cookie = (await adminHeaders()).get("cookie")!;
});
after(async () => {
  await server.close();
  await closeOffloadThreads();
  await fresh.cleanup();
});

const saved = { ...process.env };
afterEach(() => {
  for (const k of ["HOST", "MERGESCOPE_ALLOWED_HOSTS"]) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  resetEnvCache();
});

const json = { "content-type": "application/json" };
const RESET = "/api/trpc/scores.catalogue.reset";

describe("request hygiene (HTTP)", () => {
  it("should answer a foreign Host with 421 on queries and mutations, and serve loopback names", async () => {
    for (const host of ["rebind.evil.example", `rebind.evil.example:${server.port}`, "10.0.0.7", "[fe80::1]", "127.0.0.1.evil.example", "localhost.evil.example"]) {
      const q = await rawRequest(server, { path: "/api/trpc/health.status", headers: { host } });
      assert.equal(q.status, 421, `GET with Host ${JSON.stringify(host)}`);
      assert.match(q.body, /MERGESCOPE_ALLOWED_HOSTS/);
      const m = await rawRequest(server, { path: RESET, method: "POST", headers: { host, ...json }, body: "{}" });
      assert.equal(m.status, 421, `POST with Host ${JSON.stringify(host)}`);
    }
    // No Host at all (HTTP/1.0; Node's client always sends one, so checked directly).
    assert.equal(checkRequest({ method: "GET", headers: new Headers() }, { api: true })?.status, 421);
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `[::1]:${server.port}`, "LOCALHOST", "127.0.0.1"]) {
      const q = await rawRequest(server, { path: "/api/trpc/health.status", headers: { host } });
      assert.equal(q.status, 200, `GET with Host ${host}`);
    }
  });

  it("should serve the names in MERGESCOPE_ALLOWED_HOSTS (and the bound HOST)", async () => {
    process.env.MERGESCOPE_ALLOWED_HOSTS = "lab.example.org, gpu-box:8443";
    process.env.HOST = "10.1.2.3";
    resetEnvCache();
    for (const [host, status] of [
      ["lab.example.org", 200],
      ["LAB.example.org:3000", 200],
      ["gpu-box:8443", 200],
      ["gpu-box:3000", 421],
      ["10.1.2.3:3000", 200],
      ["other.example.org", 421],
    ] as const) {
      const r = await rawRequest(server, { path: "/api/trpc/health.status", headers: { host } });
      assert.equal(r.status, status, host);
    }
  });

  it("should accept mutations only as application/json", async () => {
    for (const type of ["multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "text/plain", "text/plain;charset=UTF-8", "application/octet-stream", "application/jsonx", ""]) {
      const r = await rawRequest(server, { path: RESET, method: "POST", headers: type ? { "content-type": type } : {}, body: "--x--" });
      assert.equal(r.status, 415, `content type ${JSON.stringify(type)}`);
      assert.match(r.body, /must be application\/json/);
    }
    const ok = await rawRequest(server, { path: RESET, method: "POST", headers: { "content-type": "Application/JSON; charset=utf-8", cookie }, body: "{}" });
    assert.equal(ok.status, 200, ok.body);
  });

  it("should refuse cross-origin mutations and accept same-origin ones", async () => {
    const host = `127.0.0.1:${server.port}`;
    for (const origin of ["http://evil.example", `http://localhost:${server.port + 1}`, `http://127.0.0.1:${server.port + 1}`, "null", "file://", `https://127.0.0.1:${server.port}.evil.example`]) {
      const r = await rawRequest(server, { path: RESET, method: "POST", headers: { ...json, origin }, body: "{}" });
      assert.equal(r.status, 403, `Origin ${origin}`);
      assert.match(r.body, /cross-origin request refused/);
    }
    for (const site of ["cross-site", "same-site"]) {
      const r = await rawRequest(server, { path: RESET, method: "POST", headers: { ...json, "sec-fetch-site": site }, body: "{}" });
      assert.equal(r.status, 403, `Sec-Fetch-Site ${site}`);
    }
    const same = await rawRequest(server, { path: RESET, method: "POST", headers: { ...json, cookie, origin: `http://${host}`, "sec-fetch-site": "same-origin" }, body: "{}" });
    assert.equal(same.status, 200, same.body);
    const cli = await rawRequest(server, { path: RESET, method: "POST", headers: { ...json, cookie }, body: "{}" });
    assert.equal(cli.status, 200, "no Origin (the CLI, scripts) is allowed");
  });

  it("should let an explicitly allowed origin (a reverse proxy's public name) mutate, not a default loopback one", async () => {
    process.env.MERGESCOPE_ALLOWED_HOSTS = "lab.example.org";
    resetEnvCache();
    const proxied = await rawRequest(server, { path: RESET, method: "POST", headers: { ...json, cookie, origin: "https://lab.example.org" }, body: "{}" });
    assert.equal(proxied.status, 200, proxied.body);
    const local = await rawRequest(server, { path: RESET, method: "POST", headers: { ...json, origin: "http://localhost:9999" }, body: "{}" });
    assert.equal(local.status, 403);
  });

  it("should cap bodies per procedure before reading them", async () => {
    const over = await rawRequest(server, { path: "/api/trpc/experiments.create", method: "POST", headers: json, body: "x".repeat(LIMITS.bodyBytes + 1) });
    assert.equal(over.status, 413);
    const parsed = JSON.parse(over.body) as { error: { json: { message: string; data: { code: string; httpStatus: number } } } };
    assert.equal(parsed.error.json.data.code, "PAYLOAD_TOO_LARGE");
    assert.match(parsed.error.json.message, new RegExp(`${LIMITS.bodyBytes}-byte limit`));
    // The upload procedures take more (one results file), and a batch gets its largest member's cap.
    const upload = await rawRequest(server, { path: "/api/trpc/scores.importFile", method: "POST", headers: { ...json, cookie }, body: `{"json":{"fileName":"r.json","text":"${"x".repeat(2 * 1024 * 1024)}"}}` });
    assert.equal(upload.status, 400, "2 MiB reaches the procedure (which refuses it as JSON-less text)");
    const batch = await rawRequest(server, { path: "/api/trpc/experiments.create,scores.importFile?batch=1", method: "POST", headers: json, body: "x".repeat(LIMITS.importBodyBytes + 1) });
    assert.equal(batch.status, 413);
    assert.equal((JSON.parse(batch.body) as unknown[]).length, 2, "one error per call of the batch");
    // Without Content-Length (chunked), the count stops at the cap.
    const chunked = await rawRequest(server, { path: "/api/trpc/experiments.create", method: "POST", headers: { ...json, "transfer-encoding": "chunked" }, body: "y".repeat(LIMITS.bodyBytes + 10) });
    assert.equal(chunked.status, 413);
  });

  it("should name only real procedures in the body caps, and cap batches", async () => {
    const known = new Set(procedurePaths());
    for (const p of Object.keys(PROCEDURE_BODY_LIMITS)) assert.ok(known.has(p), `${p} is a procedure`);
    assert.equal(bodyLimitFor("experiments.create"), LIMITS.bodyBytes);
    assert.equal(bodyLimitFor("health.status,scores.importFiles"), LIMITS.importBodyBytes);
    const many = Array.from({ length: LIMITS.batchCalls + 1 }, () => "health.status").join(",");
    const input = encodeURIComponent(JSON.stringify(Object.fromEntries(Array.from({ length: LIMITS.batchCalls + 1 }, (_, i) => [i, {}]))));
    const r = await rawRequest(server, { path: `/api/trpc/${many}?batch=1&input=${input}` });
    assert.equal(r.status, 400);
    assert.match(r.body, /Batch call exceeds maximum size/);
  });

  it("should send the security headers on answers and refusals", async () => {
    for (const r of [
      await rawRequest(server, { path: "/api/trpc/health.status" }),
      await rawRequest(server, { path: "/api/trpc/health.status", headers: { host: "evil.example" } }),
      await rawRequest(server, { path: RESET, method: "POST", headers: { "content-type": "text/plain" }, body: "x" }),
    ]) {
      assert.match(String(r.headers["content-security-policy"]), /frame-ancestors 'none'/);
      assert.equal(r.headers["x-content-type-options"], "nosniff");
      assert.equal(r.headers["referrer-policy"], "same-origin");
      assert.equal(r.headers["x-frame-options"], "DENY");
    }
  });
});

describe("hosts", () => {
  it("should parse Host headers and allowlist entries", () => {
    assert.deepEqual(parseHostPort("Example.ORG:8080"), { host: "example.org", port: 8080 });
    assert.deepEqual(parseHostPort("[::1]:3000"), { host: "::1", port: 3000 });
    assert.deepEqual(parseHostPort("::1"), { host: "::1", port: null });
    assert.deepEqual(parseHostPort("lab.example.org."), { host: "lab.example.org", port: null });
    for (const bad of ["", "a b", "http://x", "x:0", "x:70000", "x:12a", "[::1", "[zz]:1", "-bad.example", "a..b", "x/y", "a_b.example"]) assert.equal(parseHostPort(bad), null, bad);
  });

  it("should allow loopback and the bound host by default, and explicit names with their port", () => {
    const defaults = allowedHostEntries("127.0.0.1", undefined);
    assert.ok(hostAllowed("localhost:3000", defaults) && hostAllowed("127.0.0.1", defaults) && hostAllowed("[::1]:1", defaults));
    assert.ok(!hostAllowed("10.0.0.5:3000", defaults));
    assert.ok(hostAllowed("10.0.0.5:3000", allowedHostEntries("10.0.0.5", undefined)), "the bound address");
    assert.ok(!hostAllowed("0.0.0.0:3000", allowedHostEntries("0.0.0.0", undefined)), "a wildcard bind adds no name");
    const lab = allowedHostEntries("0.0.0.0", "lab.example.org,gpu:8443");
    assert.ok(hostAllowed("lab.example.org:443", lab) && hostAllowed("gpu:8443", lab) && !hostAllowed("gpu:80", lab));
    assert.throws(() => allowedHostEntries("127.0.0.1", "ok.example, not a host"), /'not a host' is not a host name/);
    assert.ok(originAllowed("http://127.0.0.1:3000", "127.0.0.1:3000", defaults));
    assert.ok(!originAllowed("http://127.0.0.1:3001", "127.0.0.1:3000", defaults));
    assert.ok(!originAllowed("http://localhost:3000", "127.0.0.1:3000", defaults), "loopback defaults are not origins");
    assert.ok(originAllowed("https://lab.example.org", "127.0.0.1:3000", lab));
    assert.ok(!originAllowed("javascript:alert(1)", "127.0.0.1:3000", lab));
  });

  it("should validate HOST and MERGESCOPE_ALLOWED_HOSTS at start", () => {
    delete process.env.HOST;
    resetEnvCache();
    assert.equal(env().HOST, "127.0.0.1");
    assert.equal(env().bindsLoopback, true);
    for (const good of ["0.0.0.0", "::", "::1", "10.0.0.5", "gpu-box.lab"]) {
      process.env.HOST = good;
      resetEnvCache();
      assert.equal(env().HOST, good);
    }
    assert.equal(env().bindsLoopback, false);
    for (const bad of ["http://0.0.0.0", "0.0.0.0:3000", " 127.0.0.1", "host name", ""]) {
      process.env.HOST = bad;
      resetEnvCache();
      assert.throws(() => env(), /HOST/, JSON.stringify(bad));
    }
    process.env.HOST = "127.0.0.1";
    process.env.MERGESCOPE_ALLOWED_HOSTS = "lab.example.org,https://x";
    resetEnvCache();
    assert.throws(() => env(), /MERGESCOPE_ALLOWED_HOSTS: 'https:\/\/x' is not a host name/);
  });
});

describe("security headers", () => {
  it("should allow scripts only from this origin with the nonce, and framing by nobody", () => {
    const csp = contentSecurityPolicy({ nonce: "abc", dev: false });
    assert.match(csp, /script-src 'self' 'nonce-abc' 'strict-dynamic'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /object-src 'none'/);
    assert.match(csp, /style-src 'self' 'unsafe-inline'/, "React and Recharts set style attributes");
    assert.match(contentSecurityPolicy({ nonce: "abc", dev: true }), /'unsafe-eval'/, "next dev needs eval");
    assert.equal(securityHeaders({ nonce: null })["X-Content-Type-Options"], "nosniff");
  });
});

describe("error formatter", () => {
  // A router built with the app's own procedures and formatter (server/api/trpc.ts).
  const router = createTRPCRouter({
    dbFailure: publicProcedure.query(() => {
      throw Object.assign(new Error("\nInvalid `prisma.experiment.findUniqueOrThrow()` invocation:\n\nAn operation failed because it depends on one or more records that were required but not found."), { code: "P2025" });
    }),
    typeError: publicProcedure.query(() => (undefined as unknown as { x: number }).x),
    badOutput: publicProcedure.output(z.object({ secret: z.string() })).query(() => ({ secret: 42 }) as unknown as { secret: string }),
    notFound: publicProcedure.query(() => {
      throw new AppError("NOT_FOUND", "experiment x not found");
    }),
    badInput: publicProcedure.input(z.object({ id: z.string() })).query(() => 1),
  });
  const call = async (path: string, input?: unknown) => {
    const qs = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
    const res = await fetchRequestHandler({ endpoint: "/api/trpc", req: new Request(`http://127.0.0.1/api/trpc/${path}${qs}`), router, createContext: () => createContext({ headers: new Headers() }), onError: () => {} });
    return { status: res.status, body: JSON.parse(await res.text()) as { error: { json: { message: string; data: Record<string, unknown> } } } };
  };

  it("should answer unexpected failures with a fixed message, no Prisma text, stack or issues", async () => {
    for (const p of ["dbFailure", "typeError", "badOutput"]) {
      const r = await call(p);
      assert.equal(r.status, 500, p);
      assert.equal(r.body.error.json.message, INTERNAL_MESSAGE, p);
      assert.equal(r.body.error.json.data.stack, undefined, p);
      assert.equal(r.body.error.json.data.zodIssues, null, p);
      assert.doesNotMatch(JSON.stringify(r.body), /prisma|invocation|secret|Cannot read/i, p);
    }
  });

  it("should keep the messages written for users (AppError, input validation)", async () => {
    const nf = await call("notFound");
    assert.equal(nf.status, 404);
    assert.equal(nf.body.error.json.message, "experiment x not found");
    assert.equal(nf.body.error.json.data.appCode, "NOT_FOUND");
    const bad = await call("badInput", { id: 5 });
    assert.equal(bad.status, 400);
    assert.ok(Array.isArray(bad.body.error.json.data.zodIssues));
  });
});
