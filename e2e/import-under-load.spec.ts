// Importing scores while jobs run, as issue #17 found it: a fresh server started
// like `npm start` (demo on, a worker per core) runs the demo's density sweep,
// and `mergescope import-scores` uploads 8 lm-eval results files, then 50 more.
// Every file must be imported (before the fix: "Invalid prisma.score.createMany()
// invocation: Operation has timed out"), none twice.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { request as playwrightRequest, type APIRequestContext } from "@playwright/test";
import { expect, test } from "./support/fixtures";
import { startOwnServer, type OwnServer } from "./support/own-server";

test.use({ signedInAs: null });

/** A results file in lm-evaluation-harness 0.4's layout: a few tasks, metrics with stderr, configs, n-shot. */
function resultsFile(i: number): string {
  const tasks = ["arc_easy", "hellaswag", "piqa", "belebele_npi_Deva"];
  const results: Record<string, Record<string, unknown>> = {};
  const configs: Record<string, unknown> = {};
  tasks.forEach((task, k) => {
    const acc = 0.3 + ((i * 7 + k * 13) % 50) / 100;
    results[task] = { alias: task, "acc,none": acc, "acc_stderr,none": 0.01, "acc_norm,none": acc + 0.01, "acc_norm_stderr,none": 0.011 };
    configs[task] = { task, test_split: "test", num_fewshot: 0, metric_list: [{ metric: "acc" }, { metric: "acc_norm" }] };
  });
  return JSON.stringify(
    {
      results,
      configs,
      versions: Object.fromEntries(tasks.map((t) => [t, 1])),
      "n-shot": Object.fromEntries(tasks.map((t) => [t, 0])),
      config: { model: "hf", model_args: `pretrained=/models/load-test/ckpt-${i},dtype=bfloat16`, batch_size: "auto" },
      model_name: `/models/load-test/ckpt-${i}`,
      lm_eval_version: "0.4.5",
      date: 1717236930 + i,
    },
    null,
    2,
  );
}

let server: OwnServer | undefined;

test.afterAll(() => server?.stop());

async function trpc<T>(api: APIRequestContext, base: string, route: string, input: unknown, mutation = false): Promise<T> {
  const res = mutation
    ? await api.post(`/api/trpc/${route}`, { data: { json: input }, headers: { origin: base } })
    : await api.get(`/api/trpc/${route}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  const body = (await res.json()) as { result?: { data: { json: T } }; error?: unknown };
  if (!res.ok() || !body.result) throw new Error(`${route} failed (${res.status()}): ${JSON.stringify(body).slice(0, 500)}`);
  return body.result.data.json;
}

test.describe("Score imports while jobs run", () => {
  test("should import 8 and then 50 results files through the CLI while the demo's sweep runs", async () => {
    test.setTimeout(600_000);
    // Like `npm start` on a fresh clone: demo on, the default worker setup.
    server = await startOwnServer("mergescope-import-load-", { MERGESCOPE_DEMO: "1", MERGESCOPE_WORKERS: undefined });
    const { base, port, dir: dataDir } = server;
    await expect.poll(async () => (await fetch(`${base}/api/trpc/health.status`).catch(() => null))?.status ?? 0, { timeout: 120_000 }).toBe(200);

    // A researcher with a personal API token, as a lab member would use the CLI.
    const link = JSON.parse(
      execFileSync(process.execPath, [path.resolve("bin/mergescope.mjs"), "user", "add", "loader@lab.example", "--role", "researcher", "--json"], {
        env: { ...process.env, MERGESCOPE_DATA_DIR: server.dataDir, PORT: String(port) },
        encoding: "utf8",
      }),
    ) as { url: string };
    const api = await playwrightRequest.newContext({ baseURL: base, storageState: { cookies: [], origins: [] } });
    await trpc(api, base, "auth.acceptInvite", { token: new URL(link.url).searchParams.get("token"), name: "Loader", email: null, password: "load test password" }, true);
    const signIn = await api.post("/api/auth/sign-in/email", { data: { email: "loader@lab.example", password: "load test password" }, headers: { origin: base } });
    expect(signIn.ok()).toBe(true);
    const { token } = await trpc<{ token: string }>(api, base, "account.tokens.create", { name: "load test", role: "researcher" }, true);

    const jobsIn = async (status: string[]) => (await trpc<unknown[]>(api, base, "jobs.list", { status })).length;
    // The demo's jobs are being worked on. (Its small jobs may all be claimed by now, its density
    // sweep being one long analyze-series job: the rounds below queue their own load.)
    await expect.poll(() => jobsIn(["running"]), { timeout: 120_000 }).toBeGreaterThan(0);

    const cliEnv = { ...process.env, MERGESCOPE_SERVER: base, MERGESCOPE_TOKEN: token, HOME: dataDir };
    // The demo's sweep can finish within the first round on a fast machine, so each round
    // first queues an analysis sweep of its own over the demo family (a density grid no
    // other round uses, so it is never deduplicated) and waits until it is being worked on.
    const family = path.join(server.dataDir, "demo", "synthetic-llama-family");
    const recipeYaml = [
      "merge_method: ties",
      "base_model: ./base",
      "models:",
      "  - model: ./sft",
      "    parameters: { weight: 1.0, density: 0.2 }",
      "  - model: ./ct-12B",
      "    parameters: { weight: 1.0, density: 1.0 }",
      "parameters:",
      "  normalize: true",
      "",
    ].join("\n");
    const keepWorkersBusy = async (round: number) => {
      // Different SFT and CT grids: one job per grid point (a shared grid would be one job per checkpoint).
      const sftGrid = [0.05, 0.25, 0.45, 0.65, 0.85].map((d) => d + round * 0.01);
      const ctGrid = [0.3, 0.5, 0.7, 0.9].map((d) => d + round * 0.01);
      const checkpoints = [2, 4, 6, 8, 10, 12].map((b) => `./ct-${b}B`);
      const sweep = await trpc<{ created: number }>(api, base, "jobs.sweep", { type: "analyze", recipeYaml, recipeDir: family, checkpoints, methods: ["ties"], densities: [sftGrid, ctGrid], labelPrefix: `load round ${round}` }, true);
      expect(sweep.created).toBe(checkpoints.length * sftGrid.length * ctGrid.length);
      await expect.poll(() => jobsIn(["running"]), { timeout: 60_000 }).toBeGreaterThan(0);
    };
    const importRound = async (name: string, from: number, count: number) => {
      await keepWorkersBusy(from);
      const dir = path.join(dataDir, name);
      for (let i = from; i < from + count; i++) {
        mkdirSync(path.join(dir, `ckpt-${i}`), { recursive: true });
        writeFileSync(path.join(dir, `ckpt-${i}`, `results_2024-06-01T10-15-${String(i).padStart(2, "0")}.123456.json`), resultsFile(i));
      }
      // The import must overlap jobs at work: afterwards, some job's run (startedAt → finishedAt,
      // or still running) intersects the import's time window. A sampled count of running jobs
      // would miss the gaps between the demo's short jobs.
      const started = Date.now();
      const child = spawn(process.execPath, [path.resolve("bin/mergescope.mjs"), "import-scores", dir, "--json"], { env: cliEnv, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (d) => (stdout += d));
      child.stderr!.on("data", (d) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      const ended = Date.now();
      expect(code, `import-scores exited ${code}: ${stderr}`).toBe(0);
      const outcomes = JSON.parse(stdout) as { ok: boolean; fileName: string; error?: string; summary?: { created: number } }[];
      expect(outcomes.filter((o) => !o.ok).map((o) => `${o.fileName}: ${o.error}`)).toEqual([]);
      expect(outcomes).toHaveLength(count);
      expect(outcomes.every((o) => o.summary?.created === 8)).toBe(true);
      const jobs = await trpc<{ startedAt: string | null; finishedAt: string | null }[]>(api, base, "jobs.list", { status: ["running", "done"] });
      const overlapping = jobs.filter((j) => j.startedAt && Date.parse(j.startedAt) <= ended && (!j.finishedAt || Date.parse(j.finishedAt) >= started));
      expect(overlapping.length, "jobs were at work while the files were imported").toBeGreaterThan(0);
      return dir;
    };

    const first = await importRound("round-1", 0, 8);
    await importRound("round-2", 8, 50);

    const imports = await trpc<unknown[]>(api, base, "scores.imports", undefined);
    expect(imports).toHaveLength(58);
    const scores = await trpc<unknown[]>(api, base, "scores.list", { limit: 20_000 });
    expect(scores).toHaveLength(58 * 8);

    // Importing the first round again changes nothing: no duplicated rows.
    const again = execFileSync(process.execPath, [path.resolve("bin/mergescope.mjs"), "import-scores", first, "--json"], { env: cliEnv, encoding: "utf8" });
    const repeated = JSON.parse(again) as { ok: boolean; summary?: { duplicate: boolean } }[];
    expect(repeated.every((o) => o.ok && o.summary?.duplicate)).toBe(true);
    expect(await trpc<unknown[]>(api, base, "scores.list", { limit: 20_000 })).toHaveLength(58 * 8);
    expect(server.output()).not.toContain("Operation has timed out");
    await api.dispose();
  });
});
