// `npm run bench:charts [-- --port 3240 --workers 2 --moves 60 --keep]`: how fast the density
// explorer re-renders Figures 3–4 in Chromium for a full-size sweep — 10 CT checkpoints ×
// 36 density pairs (6 SFT × 6 CT densities) × {ties, ties_sv} = 720 real analyze jobs on a
// tiny synthetic family. The time is the app's own performance measure "ms-explorer-update":
// from the slider's input event to the next frame after Figures 3–4 committed. Then, with 20
// TIES / TIES-SV merges and their scores added, the later views (interactions.ts): geometry
// along the series, scores against statistics, parallel coordinates, TIES vs TIES-SV with the
// methods side by side. Not a test: it prints median / p95 / max per view (target: < 100 ms).
//
// Needs a production build (MERGESCOPE_NEXT_DIST, default .next) and Debian's Chromium
// ($MERGESCOPE_CHROMIUM, default /usr/bin/chromium).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { chromium, request as playwrightRequest } from "@playwright/test";
import { generateModelFamily } from "../../server/engine/synthetic/family";
import { measureNewViews, type InteractionResult } from "./interactions";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "3240" },
    workers: { type: "string", default: String(Math.max(1, os.availableParallelism())) },
    moves: { type: "string", default: "60" },
    data: { type: "string" },
    keep: { type: "boolean", default: false },
    screenshots: { type: "string" },
  },
});
const root = path.resolve(import.meta.dirname, "..", "..");
const port = Number(values.port);
const base = `http://127.0.0.1:${port}`;
const CHECKPOINTS = 10;
const SFT_GRID = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
const CT_GRID = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
const dist = process.env.MERGESCOPE_NEXT_DIST ?? ".next";
if (!existsSync(path.join(root, dist, "BUILD_ID"))) throw new Error(`no production build in ${dist}: run \`MERGESCOPE_NEXT_DIST=${dist} npm run build\` first`);

const dataDir = values.data ? path.resolve(values.data) : mkdtempSync(path.join(os.tmpdir(), "mergescope-bench-charts-"));
const familyDir = path.join(dataDir, "models", "bench-charts");

/** The signed-in admin's cookies (the bench makes its own account, as a lab admin would). */
let cookie = "";

async function trpc<T>(method: "GET" | "POST", name: string, input?: unknown): Promise<T> {
  const url = method === "GET" ? `${base}/api/trpc/${name}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`}` : `${base}/api/trpc/${name}`;
  const headers = { cookie, origin: base, "content-type": "application/json" };
  const res = await fetch(url, method === "POST" ? { method, headers, body: JSON.stringify({ json: input }) } : { headers });
  const body = (await res.json()) as { result?: { data: { json: T } }; error?: { json: { message: string } } };
  if (!res.ok || !body.result) throw new Error(`${name}: ${body.error?.json.message ?? res.status}`);
  return body.result.data.json;
}

/** `mergescope user add --role admin` on the bench's data directory, the invitation accepted, signed in: returns the session cookies. */
async function signInAdmin(): Promise<string> {
  const email = `bench-${Date.now()}@bench.example`;
  const password = "bench password 1234";
  const out = execFileSync(process.execPath, [path.join(root, "bin", "mergescope.mjs"), "user", "add", email, "--role", "admin", "--json"], {
    env: { ...process.env, MERGESCOPE_DATA_DIR: dataDir, PORT: String(port) },
    encoding: "utf8",
  });
  const token = new URL((JSON.parse(out) as { url: string }).url).searchParams.get("token");
  // Playwright's request context keeps the cookies Better Auth sets (as the e2e accounts do).
  const api = await playwrightRequest.newContext({ baseURL: base, extraHTTPHeaders: { origin: base } });
  try {
    const accepted = await api.post("/api/trpc/auth.acceptInvite", { data: { json: { token, name: "Bench admin", email: null, password } } });
    if (!accepted.ok()) throw new Error(`accepting the bench's invitation failed (${accepted.status()}): ${await accepted.text()}`);
    const signedIn = await api.post("/api/auth/sign-in/email", { data: { email, password } });
    if (!signedIn.ok()) throw new Error(`signing in failed (${signedIn.status()}): ${await signedIn.text()}`);
    return (await api.storageState()).cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  } finally {
    await api.dispose();
  }
}

function startServer(): ChildProcess {
  const child = spawn(process.execPath, [path.join(root, "scripts", "start.mjs")], {
    cwd: root,
    env: { ...process.env, PORT: String(port), MERGESCOPE_DATA_DIR: dataDir, MERGESCOPE_DEMO: "0", MERGESCOPE_WORKERS: values.workers, MERGESCOPE_NEXT_DIST: dist },
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
  });
  return child;
}

async function waitFor<T>(what: string, f: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await f();
      if (v !== null) return v;
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const SCORE_TASK = "belebele_ben_Beng";

/** An lm-eval 0.4 results file scoring one model folder. */
function resultsFile(pretrained: string, acc: number): string {
  return JSON.stringify({
    results: { [SCORE_TASK]: { alias: SCORE_TASK, "acc,none": acc, "acc_stderr,none": 0.012 } },
    configs: { [SCORE_TASK]: { task: SCORE_TASK, test_split: "test", num_fewshot: 0 } },
    versions: { [SCORE_TASK]: 0 },
    config: { model: "hf", model_args: `pretrained=${pretrained},dtype=bfloat16` },
    model_name: pretrained,
    lm_eval_version: "0.4.5",
  });
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};

async function main(): Promise<void> {
  if (!existsSync(path.join(familyDir, ".complete"))) {
    console.error(`generating a synthetic family with ${CHECKPOINTS} CT checkpoints in ${familyDir} …`);
    generateModelFamily({ out: familyDir, hidden: 64, layers: 2, intermediate: 128, vocab: 256, heads: 4, kvHeads: 2, ctCheckpoints: CHECKPOINTS, tokensPerCheckpoint: 1.6, dtype: "bf16", seed: 17, overwrite: true });
    mkdirSync(familyDir, { recursive: true });
    writeFileSync(path.join(familyDir, ".complete"), "");
  }
  const server = startServer();
  const stop = () => {
    try {
      if (server.pid) process.kill(-server.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  process.on("exit", stop);
  try {
    await waitFor("the server", () => trpc("GET", "health.status").then(() => true), 120_000);
    cookie = await signInAdmin();
    const models = await trpc<{ id: string; path: string }[]>("GET", "models.list", {});
    const reg = async (dir: string, role: string) =>
      models.find((m) => m.path === path.join(familyDir, dir)) ??
      (await trpc<{ model: { id: string; path: string } }>("POST", "models.register", { path: path.join(familyDir, dir), role, name: `bench-${dir}`, language: role === "CT" ? "ben" : null })).model;
    const baseM = await reg("base", "BASE");
    const sftM = await reg("sft", "SFT");
    const ctDirs = Array.from({ length: CHECKPOINTS }, (_, i) => `ct-${Number(((i + 1) * 1.6).toPrecision(12))}B`);
    const cts = [];
    for (const d of ctDirs) cts.push(await reg(d, "CT"));
    const exps = await trpc<{ id: string; name: string }[]>("GET", "experiments.list", {});
    const expId =
      exps.find((e) => e.name === "bench charts")?.id ??
      (await trpc<{ id: string }>("POST", "experiments.create", { name: "bench charts", language: "ben", baseModelId: baseM.id, sftModelId: sftM.id, ctModelIds: cts.map((c) => c.id) })).id;
    const recipe = [
      "merge_method: ties",
      "base_model: ./base",
      "models:",
      "  - model: ./sft",
      "    parameters: { weight: 1.0, density: 0.2 }",
      `  - model: ./${ctDirs[0]}`,
      "    parameters: { weight: 1.0, density: 1.0 }",
      "parameters:",
      "  normalize: true",
      "",
    ].join("\n");
    const started = Date.now();
    const sweep = await trpc<{ jobs: unknown[]; created: number }>("POST", "jobs.sweep", {
      type: "analyze",
      recipeYaml: recipe,
      recipeDir: familyDir,
      checkpoints: cts.map((c) => c.path),
      methods: ["ties", "ties_sv"],
      densities: [SFT_GRID, CT_GRID],
      experimentId: expId,
    });
    const total = sweep.jobs.length;
    console.error(`${total} analyze jobs (${sweep.created} new); waiting for the workers …`);
    await waitFor(
      "the analyze jobs",
      async () => {
        const jobs = await trpc<{ status: string }[]>("GET", "jobs.list", { experimentId: expId, type: ["analyze"], limit: 5000 });
        const done = jobs.filter((j) => j.status === "done").length;
        if (jobs.some((j) => j.status === "failed")) throw new Error("an analyze job failed");
        return done >= total ? done : null;
      },
      30 * 60_000,
    );
    console.error(`analyses ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // TIES and TIES-SV merges of every checkpoint, with a score each (the scatter and parallel coordinates draw merges).
    const merges = await trpc<{ jobs: { id: string }[] }>("POST", "jobs.sweep", { type: "merge", recipeYaml: recipe, recipeDir: familyDir, checkpoints: cts.map((c) => c.path), methods: ["ties", "ties_sv"], experimentId: expId });
    const mergeJobs = await waitFor(
      "the merge jobs",
      async () => {
        const jobs = await trpc<{ id: string; status: string; outputPath: string | null }[]>("GET", "jobs.list", { experimentId: expId, type: ["merge"], limit: 5000 });
        if (jobs.some((j) => j.status === "failed")) throw new Error("a merge job failed");
        return jobs.length >= merges.jobs.length && jobs.every((j) => j.status === "done") ? jobs : null;
      },
      10 * 60_000,
    );
    const files = mergeJobs.map((j, i) => ({ fileName: `merge-${i}.json`, text: resultsFile(j.outputPath!, 0.3 + 0.01 * i) }));
    await trpc("POST", "scores.importFiles", { files });

    const browser = await chromium.launch({ executablePath: process.env.MERGESCOPE_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
      await context.addCookies(cookie.split("; ").map((c) => ({ name: c.slice(0, c.indexOf("=")), value: c.slice(c.indexOf("=") + 1), url: base })));
      const page = await context.newPage();
      const loadStart = Date.now();
      await page.goto(`${base}/analysis?experiment=${expId}`);
      await page.getByTestId("chart-fig4").locator(".recharts-bar-rectangle").first().waitFor();
      const loadMs = Date.now() - loadStart;
      const stats = await trpc<{ points: unknown[] }>("GET", "charts.sweep", { experimentId: expId });
      const moves = Number(values.moves);
      const sliders = ["density-sft", "density-ct"] as const;
      const durations: number[] = [];
      const frames: number[] = [];
      const idx = { "density-sft": 1, "density-ct": 5 }; // start: 0.2 / 1.0
      for (let i = 0; i < moves + 5; i++) {
        const which = sliders[i % 2]!;
        const grid = which === "density-sft" ? SFT_GRID : CT_GRID;
        const dir = idx[which] >= grid.length - 1 ? -1 : idx[which] <= 0 ? 1 : Math.random() < 0.5 ? -1 : 1;
        idx[which] += dir;
        const before = await page.evaluate(() => performance.getEntriesByName("ms-explorer-update").length);
        await page.getByTestId(which).focus();
        await page.keyboard.press(dir > 0 ? "ArrowRight" : "ArrowLeft");
        const want = `k=${SFT_GRID[idx["density-sft"]]}/${CT_GRID[idx["density-ct"]]}`;
        await page.waitForFunction(
          ([n, label]) => performance.getEntriesByName("ms-explorer-update").length > (n as number) && (document.querySelector('[data-testid="chart-fig4"] .chart-legend')?.textContent ?? "").includes(label as string),
          [before, want] as const,
          { timeout: 10_000 },
        );
        const [d, f] = await page.evaluate(() => [performance.getEntriesByName("ms-explorer-update").at(-1)!.duration, performance.getEntriesByName("ms-explorer-frame").at(-1)!.duration]);
        if (i >= 5) {
          // the first moves warm up the JIT and caches
          durations.push(d!);
          frames.push(f!);
        }
      }
      const median = quantile(durations, 0.5);
      const p95 = quantile(durations, 0.95);
      const result = {
        checkpoints: CHECKPOINTS,
        densityPairs: SFT_GRID.length * CT_GRID.length,
        analyses: stats.points.length,
        moves: durations.length,
        pageLoadMs: loadMs,
        /** input → a task after the next frame (paint included): the figure that counts. */
        medianMs: Number(median.toFixed(1)),
        p95Ms: Number(p95.toFixed(1)),
        maxMs: Number(Math.max(...durations).toFixed(1)),
        /** input → the next animation frame after React committed (paint not included). */
        frameMedianMs: Number(quantile(frames, 0.5).toFixed(1)),
        frameP95Ms: Number(quantile(frames, 0.95).toFixed(1)),
        targetMs: 100,
        meetsTarget: p95 < 100,
      };
      const views: InteractionResult[] = await measureNewViews(page, base, expId, SCORE_TASK, Math.max(10, Math.round(moves / 2)));
      if (values.screenshots) {
        // The full-size sweep at a desktop and a phone width (layout check, not measured).
        mkdirSync(values.screenshots, { recursive: true });
        await page.screenshot({ path: path.join(values.screenshots, "analysis-1440.png"), fullPage: true });
        await page.setViewportSize({ width: 390, height: 844 });
        await page.getByTestId("chart-fig4").locator(".recharts-bar-rectangle").first().waitFor();
        await page.screenshot({ path: path.join(values.screenshots, "analysis-390.png"), fullPage: true });
      }
      console.log(JSON.stringify({ ...result, views: views.map((v) => ({ ...v, meetsTarget: v.p95Ms < 100 })) }, null, 2));
      console.log(`density explorer → Figures 3–4: median ${result.medianMs} ms, p95 ${result.p95Ms} ms over ${result.moves} slider moves (${result.analyses} analyses; target < 100 ms)`);
      for (const v of views) console.log(`${v.view} — ${v.interaction}: median ${v.medianMs} ms, p95 ${v.p95Ms} ms over ${v.samples} (target < 100 ms)`);
    } finally {
      await browser.close();
    }
  } finally {
    stop();
    if (!values.keep && !values.data) rmSync(dataDir, { recursive: true, force: true });
    else console.error(`data kept in ${dataDir} (reuse with --data ${dataDir})`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
