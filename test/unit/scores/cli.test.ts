// `mergescope import-scores` and `mergescope scores` against a server (the app's
// tRPC router over HTTP, with a fresh database): files go through the API.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { startApiServer } from "../../support/api-server";
import { callerAs } from "../../support/auth";
import { FIXTURES, freshDataDir, registerModel } from "./helpers";

const env = freshDataDir("ms-scores-cli-");
let server: Awaited<ReturnType<typeof startApiServer>>;
let url = "";
let token = "";

before(async () => {
  // The commands sign in with a researcher's personal API token.
  token = (await (await callerAs("researcher")).account.tokens.create({ name: "cli", role: "researcher" })).token;
  server = await startApiServer();
  url = server.url;
});
after(async () => {
  await server.close();
  await env.cleanup();
});

/** The CLI in a child process (async: the server answers from this process). */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/mergescope.mjs", ...args], { env: { ...process.env, MERGESCOPE_SERVER: "", MERGESCOPE_TOKEN: token } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("scores CLI", () => {
  it("should import files through the server and report malformed ones with their line", async () => {
    const r = await cli(
      "import-scores",
      path.join(FIXTURES, "results_2024-06-01T10-15-30.123456.json"),
      path.join(FIXTURES, "malformed/results_2024.json"),
      path.join(FIXTURES, "results_2024-07-15T08-30-12.654321.json"),
      "--server",
      url,
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /✓ results_2024-06-01T10-15-30\.123456\.json: 10 scores for model name "\/models\/merges\/TIES-ben-flan" \(no registered model has this path: confirm its model in the review on the Scores page\) — 10 new, 0 updated, 0 unchanged/);
    assert.match(r.stdout, /split test — config test_split=test: belebele_ben_Beng, mgsm_direct_bn, mgsm_native_cot_bn, sib200_ben_Beng/);
    assert.match(r.stdout, /split dev — config validation_split=dev: mlic_bod_mrc, mlic_bod_rs, mlic_bod_tc, mlic_bod_math/);
    assert.match(r.stderr, /✗ results_2024\.json line 14: results\.belebele_ben_Beng: expected an object of metric values, got a string/);
    assert.match(r.stdout, /2 of 3 file\(s\) imported/);
  });

  it("should file scores under --model with --split, and list them", async () => {
    const m = await registerModel(env.dir, "TIES-tam-flan");
    const r = await cli("import-scores", path.join(FIXTURES, "results_legacy-0.3.json"), "--model", m.id, "--split", "dev", "--server", url);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`3 scores for model TIES-tam-flan \\(${m.id}, matched by option\\)`));
    assert.match(r.stdout, /split dev — option/);
    const again = await cli("import-scores", path.join(FIXTURES, "results_legacy-0.3.json"), "--model", m.id, "--split", "dev", "--server", url);
    assert.match(again.stdout, /already imported, nothing changed/);

    const list = await cli("scores", "--model", m.id, "--server", url);
    assert.equal(list.status, 0, list.stderr);
    const lines = list.stdout.trim().split("\n");
    assert.match(lines[0]!, /^MODEL\s+TASK\s+SPLIT\s+METRIC\s+FILTER\s+VALUE\s+STDERR\s+SOURCE FILE$/);
    assert.equal(lines.length, 4);
    assert.match(list.stdout, /TIES-tam-flan\s+belebele_tam_Taml\s+dev\s+acc\s+none\s+0\.3653\s+0\.0090\s+results_legacy-0\.3\.json/);
    const json = JSON.parse((await cli("scores", "--json", "--split", "test", "--server", url)).stdout) as { task: string; stderr: number | null; filter: string }[];
    assert.equal(json.find((s) => s.task === "mgsm_direct_bn" && s.filter === "remove_whitespace")?.stderr, null);
    const bad = await cli("scores", "--model", "nope", "--server", url);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /model nope is not registered/);
  });

  it("should explain usage errors and an unreachable server", async () => {
    const r = await cli("import-scores", "--split", "train", path.join(FIXTURES, "results_legacy-0.3.json"));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--split must be dev or test/);
    const down = await cli("scores", "--server", "http://127.0.0.1:9");
    assert.equal(down.status, 1);
    assert.match(down.stderr, /cannot reach the MergeScope server at http:\/\/127\.0\.0\.1:9/);
  });
});
