// The CLI with and without a personal API token, against the app's router over
// HTTP: a clear error without one, `mergescope login` saving it (0600), the
// token's role enforced, a revoked token refused; `user add` printing a
// one-time link from the shell; `eval-template add` needing an admin token.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, statSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { describeInvite } from "../../../server/services/auth/invites";
import { startApiServer } from "../../support/api-server";
import { callerAs } from "../../support/auth";
import { freshDataDir } from "../scores/helpers";

const env = freshDataDir("ms-cli-auth-");
const configHome = mkdtempSync(path.join(os.tmpdir(), "ms-cli-config-"));
let server: Awaited<ReturnType<typeof startApiServer>>;
let url = "";

before(async () => {
  server = await startApiServer();
  url = server.url;
});
after(async () => {
  await server.close();
  await env.cleanup();
});

function cli(args: string[], opts: { token?: string; stdin?: string } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, MERGESCOPE_SERVER: url, XDG_CONFIG_HOME: configHome };
    delete childEnv.MERGESCOPE_TOKEN;
    if (opts.token !== undefined) childEnv.MERGESCOPE_TOKEN = opts.token;
    const child = spawn(process.execPath, ["bin/mergescope.mjs", ...args], { env: childEnv });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(opts.stdin ?? "");
  });
}

describe("CLI authentication", () => {
  it("should refuse to talk to a server without a token, saying how to get one", async () => {
    for (const args of [["jobs"], ["scores"], ["import-scores", "test/fixtures/lm-eval/results_legacy-0.3.json"], ["eval-template", "list"]]) {
      const r = await cli(args);
      assert.equal(r.status, 1, `${args[0]}: ${r.stdout}`);
      assert.match(r.stderr, new RegExp(`not signed in to ${url.replace(/[.:/]/g, "\\$&")}: create a personal API token on the server's Account page .*mergescope login`));
    }
  });

  it("should log in with a token read from standard input, keep it 0600, and use it", async () => {
    const viewer = await callerAs("viewer");
    const t = await viewer.account.tokens.create({ name: "laptop", role: "viewer" });
    const bad = await cli(["login"], { stdin: "msk_not-a-real-token\n" });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /refused .*token was refused/);
    const r = await cli(["login"], { stdin: `${t.token}\n` });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /signed in to .* as viewer-.*@lab\.test \(viewer\); token saved in /);
    const file = path.join(configHome, "mergescope", "credentials.json");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.equal((JSON.parse(readFileSync(file, "utf8")) as { servers: Record<string, { token: string }> }).servers[url]?.token, t.token);

    const jobs = await cli(["jobs", "--json"]);
    assert.equal(jobs.status, 0, jobs.stderr);
    assert.deepEqual(JSON.parse(jobs.stdout), []);
    // A viewer's token cannot import.
    const imp = await cli(["import-scores", "test/fixtures/lm-eval/results_legacy-0.3.json"]);
    assert.equal(imp.status, 1);
    assert.match(imp.stderr, /needs the researcher role; this token acts as viewer/);

    await viewer.account.tokens.revoke({ id: t.id });
    const revoked = await cli(["scores"]);
    assert.equal(revoked.status, 1);
    assert.match(revoked.stderr, /refused the token saved by `mergescope login`: the API token was refused: it is unknown, revoked or expired/);
    const out = await cli(["logout"]);
    assert.match(out.stdout, /forgot the token/);
    assert.match((await cli(["jobs"])).stderr, /not signed in/);
  });

  it("should prefer MERGESCOPE_TOKEN, and let only an admin's token add evaluation templates", async () => {
    const researcher = (await (await callerAs("researcher")).account.tokens.create({ name: "ci", role: "researcher" })).token;
    const admin = (await (await callerAs("admin")).account.tokens.create({ name: "ops", role: "admin" })).token;
    const cmd = "lm_eval --model hf --model_args pretrained={model} --tasks {tasks} --output_path {out}";
    const refused = await cli(["eval-template", "add", "lm-eval", cmd], { token: researcher });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /needs the admin role; this token acts as researcher/);
    const ok = await cli(["eval-template", "add", "lm-eval", cmd], { token: admin });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /evaluation template 'lm-eval' added \(id \w+\)/);
    const list = await cli(["eval-template", "list"], { token: researcher });
    assert.match(list.stdout, /lm-eval\n    lm_eval --model hf/);
  });

  it("should add an account from the shell with a one-time link", async () => {
    const r = await cli(["user", "add", "Grace@Lab.test", "--admin"]);
    assert.equal(r.status, 0, r.stderr);
    const link = /(http:\/\/localhost:\d+\/setup\?token=[A-Za-z0-9_-]{43})/.exec(r.stdout)?.[1];
    assert.ok(link, r.stdout);
    assert.deepEqual({ ...(await describeInvite(new URL(link).searchParams.get("token")!)), expiresAt: null }, { email: "grace@lab.test", role: "admin", firstAdmin: false, expiresAt: null });
    const plain = await cli(["user", "add", "--role", "viewer", "--json"]);
    assert.equal((JSON.parse(plain.stdout) as { role: string; email: null }).role, "viewer");
    const bad = await cli(["user", "add", "x@lab.test", "--role", "owner"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--role must be one of viewer, researcher, admin, got 'owner'/);
    const list = await cli(["user", "list"]);
    assert.match(list.stdout, /admin-.*@lab\.test\s+admin/);
  });
});
