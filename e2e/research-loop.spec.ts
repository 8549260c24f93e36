// The research loop as issue #13 walked it, on a server of its own whose model roots hold
// only the family: register base, SFT and a folder of CT checkpoints, create an experiment
// for a language outside the paper's seven, queue a TIES + TIES-SV merge sweep (no separate
// analysis), import lm-eval results made on another machine (other paths), confirm the
// proposed matches, and find Figure 2, Figures 3–4 and the comparison page filled — with no
// restart and no manual registration of the merges.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { APIRequestContext } from "@playwright/test";
import { generateModelFamily } from "../server/engine/synthetic/family";
import { expect, test } from "./support/fixtures";
import { watchConsoleErrors } from "./support/console";
import { startOwnServer, type OwnServer } from "./support/own-server";
import { column, tableOf } from "./support/figures";

test.use({ signedInAs: null });

interface Model {
  id: string;
  name: string;
  path: string;
  role: string;
}
interface Job {
  id: string;
  type: string;
  status: string;
  outputPath: string | null;
}

let server: OwnServer | undefined;
let familyRoot: string | undefined;
test.afterAll(() => {
  server?.stop();
  if (familyRoot) rmSync(familyRoot, { recursive: true, force: true });
});

const TASK = "belebele_xka_Geor";
const OTHER_MACHINE = "/cluster/alice/runs/xka";

/** An lm-eval 0.4 results file for one model path of the machine that evaluated it. */
function resultsFile(pretrained: string, acc: number): string {
  return JSON.stringify({
    results: { [TASK]: { alias: TASK, "acc,none": acc, "acc_stderr,none": 0.012 } },
    configs: { [TASK]: { task: TASK, test_split: "test", num_fewshot: 0 } },
    versions: { [TASK]: 0 },
    "n-shot": { [TASK]: 0 },
    config: { model: "hf", model_args: `pretrained=${pretrained},dtype=bfloat16`, batch_size: "auto" },
    model_name: pretrained,
    lm_eval_version: "0.4.5",
    date: 1733600000,
  });
}

test.describe("Research loop", () => {
  test("should go from a new language's CT series to Figure 2 with scores made on another machine", async ({ page }) => {
    test.setTimeout(480_000);
    // A family as a training run leaves it: base, sft, and the CT checkpoints in their own folder.
    familyRoot = mkdtempSync(path.join(os.tmpdir(), "mergescope-loop-family-"));
    const family = path.join(familyRoot, "xka-family");
    generateModelFamily({ out: family, hidden: 64, layers: 2, intermediate: 128, vocab: 256, heads: 4, kvHeads: 2, ctCheckpoints: 3, tokensPerCheckpoint: 2, dtype: "bf16", seed: 17, overwrite: true });
    const ctFolder = path.join(realpathSync(family), "ct");
    mkdirSync(ctFolder);
    for (const d of readdirSync(family)) if (d.startsWith("ct-")) renameSync(path.join(family, d), path.join(ctFolder, d));

    server = await startOwnServer("mergescope-loop-", { MERGESCOPE_DEMO: "0", MERGESCOPE_MODEL_ROOTS: family, MERGESCOPE_WORKERS: undefined });
    const { base } = server;
    await expect.poll(async () => (await fetch(`${base}/api/trpc/health.status`).catch(() => null))?.status ?? 0, { timeout: 120_000 }).toBe(200);

    // A researcher signs in (an admin's invitation, made with the CLI on the server's machine).
    const invite = JSON.parse(
      execFileSync(process.execPath, [path.resolve("bin/mergescope.mjs"), "user", "add", "rita@lab.example", "--role", "researcher", "--json"], {
        env: { ...process.env, MERGESCOPE_DATA_DIR: server.dataDir, PORT: String(server.port) },
        encoding: "utf8",
      }),
    ) as { url: string };
    const api: APIRequestContext = page.request;
    const call = async <T>(route: string, input: unknown, mutation = false): Promise<T> => {
      const res = mutation
        ? await api.post(`${base}/api/trpc/${route}`, { data: { json: input }, headers: { origin: base } })
        : await api.get(`${base}/api/trpc/${route}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
      const body = (await res.json()) as { result?: { data: { json: T } } };
      if (!res.ok() || !body.result) throw new Error(`${route} failed (${res.status()}): ${JSON.stringify(body).slice(0, 400)}`);
      return body.result.data.json;
    };
    await call("auth.acceptInvite", { token: new URL(invite.url).searchParams.get("token"), name: "Rita", email: null, password: "research loop password" }, true);
    expect((await api.post(`${base}/api/auth/sign-in/email`, { data: { email: "rita@lab.example", password: "research loop password" }, headers: { origin: base } })).ok()).toBe(true);
    const errors = watchConsoleErrors(page);

    // 1. Register base, SFT and the CT folder on the Models page.
    await page.goto(`${base}/models`);
    const one = page.getByTestId("register-model-form");
    for (const [dir, role, name] of [
      [path.join(family, "base"), "BASE", "xka base"],
      [path.join(family, "sft"), "SFT", "xka sft"],
    ] as const) {
      await one.getByLabel("Model directory (absolute path) or Hugging Face id").fill(dir);
      await one.getByLabel("Role").selectOption(role);
      await one.getByLabel("Name").fill(name);
      await one.getByRole("button", { name: "Register" }).click();
      await expect(page.getByTestId("register-result")).toContainText(`Registered ${name} as ${role}`);
    }
    const folder = page.getByTestId("register-folder-form");
    await folder.getByLabel("Folder (absolute path)").fill(ctFolder);
    await folder.getByLabel("Language").fill("xka");
    await folder.getByRole("button", { name: "Register folder" }).click();
    await expect(page.getByTestId("folder-results")).toContainText("3 registered, 0 skipped, 0 failed");
    const models = await call<Model[]>("models.list", {});
    const byName = new Map(models.map((m) => [m.name, m]));

    // 2. An experiment for Mingrelian (xka), not one of the paper's seven.
    await page.goto(`${base}/experiments`);
    const form = page.getByTestId("create-experiment-form");
    await form.getByLabel("Name").fill("Mingrelian loop");
    await form.getByLabel("Target language").fill("xka");
    await form.getByLabel("Base model").selectOption(byName.get("xka base")!.id);
    await form.getByLabel("SFT model").selectOption(byName.get("xka sft")!.id);
    await form.getByTestId("ct-checklist").getByRole("button", { name: "Select all" }).click();
    await form.getByRole("button", { name: "Create experiment" }).click();
    await expect(page).toHaveURL(/\/experiments\/[a-z0-9]+$/);
    const experimentId = (await page.getByTestId("experiment-detail").getAttribute("data-experiment-id"))!;

    // 3. A TIES + TIES-SV merge sweep over the three checkpoints, and nothing else.
    await page.goto(`${base}/builder?exp=${experimentId}&method=ties`);
    await expect(page.getByTestId("merge-builder")).toHaveAttribute("data-hydrated", "true");
    const sweep = page.getByTestId("sweep-panel");
    await sweep.getByRole("radio", { name: /^merge/ }).check();
    await sweep.getByTestId("sweep-methods").getByRole("checkbox", { name: "TIES-SV" }).check();
    // The paper's densities: k_sft = 0.2, k_ct = 1.
    await sweep.getByRole("textbox", { name: "models[0] xka sft" }).fill("0.2");
    await expect(sweep.getByTestId("sweep-count")).toHaveText("6 merge jobs");
    await expect(page).toHaveURL(/sd=0.2%3B1/);
    await sweep.getByRole("button", { name: "Queue sweep" }).click();
    await expect(page).toHaveURL(new RegExp(`/jobs\\?experiment=${experimentId}$`));
    await expect.poll(async () => (await call<Job[]>("jobs.list", { experimentId })).map((j) => `${j.type}:${j.status}`).sort(), { timeout: 240_000 }).toEqual(Array(6).fill("merge:done"));
    const merges = await call<Job[]>("jobs.list", { experimentId });
    // Every merge registered itself as a MERGED model, although its folder lies outside MERGESCOPE_MODEL_ROOTS.
    const merged = (await call<Model[]>("models.list", {})).filter((m) => m.role === "MERGED");
    expect(merged.map((m) => m.path).sort()).toEqual(merges.map((j) => j.outputPath!).sort());

    // 4. Results files evaluated on another machine: the merges kept their folder names there
    //    (their job key is a fingerprint); the checkpoints sit in folders that end alike.
    const upload = path.join(server.dir, "from-alice");
    mkdirSync(upload);
    const files: string[] = [];
    const write = (name: string, text: string) => {
      writeFileSync(path.join(upload, name), text);
      files.push(path.join(upload, name));
    };
    write("base.json", resultsFile(`${OTHER_MACHINE}/xka-family/base`, 0.3));
    write("sft.json", resultsFile(`${OTHER_MACHINE}/xka-family/sft`, 0.32));
    ["ct-2B", "ct-4B", "ct-6B"].forEach((ct, i) => write(`${ct}.json`, resultsFile(`${OTHER_MACHINE}/xka-family/ct/${ct}`, 0.4 + 0.05 * i)));
    merges.forEach((j, i) => write(`merge-${i}.json`, resultsFile(`/scratch/alice/merged/${path.basename(j.outputPath!)}`, 0.5 + 0.01 * i)));
    await page.goto(`${base}/scores`);
    await expect(page.getByTestId("scores-dropzone")).toHaveAttribute("data-ready", "true");
    await page.getByLabel("Results files").setInputFiles(files);
    await expect(page.getByTestId("import-ok")).toHaveCount(11);

    // 5. The review proposes each checkpoint by its path's ending, with full paths; confirm all at once.
    const review = page.getByTestId("unattached-panel");
    await expect(review.getByTestId("unattached-row")).toHaveCount(5);
    const row = (name: string) => review.getByTestId("unattached-row").filter({ hasText: `${name}.json` });
    await expect(row("ct-4B").getByRole("combobox")).toHaveValue(byName.get("ct-4B")!.id);
    await expect(row("ct-4B").getByRole("combobox").locator("option:checked")).toContainText(path.join(ctFolder, "ct-4B"));
    await expect(row("ct-4B")).toContainText(`${OTHER_MACHINE}/xka-family/ct/ct-4B`);
    await expect(row("ct-4B").getByRole("checkbox")).toBeChecked();
    await review.getByRole("button", { name: "Attach 5 confirmed files" }).click();
    await expect(page.getByTestId("attach-result")).toContainText("Attached 5 scores of 5 files");
    await expect(page.getByTestId("attach-result")).toContainText(`ct-6B.json → ct-6B ${path.join(ctFolder, "ct-6B")}`);
    await expect(review.getByTestId("unattached-row")).toHaveCount(0);
    const imports = await call<{ sourceFile: string; matchedBy: string | null }[]>("scores.imports", undefined);
    expect(imports.filter((i) => i.sourceFile.startsWith("merge-")).map((i) => i.matchedBy)).toEqual(Array(6).fill("fingerprint"));

    // 6. Figure 2: CT, TIES and TIES-SV along the CT tokens, with those scores.
    await page.goto(`${base}/analysis?experiment=${experimentId}`);
    const fig2 = page.getByTestId("chart-fig2");
    await fig2.getByTestId("fig2-task").selectOption(TASK);
    await expect(fig2.locator(".recharts-line").first()).toBeVisible({ timeout: 30_000 });
    const table = await tableOf(fig2);
    expect(column(table, "CT")).toEqual(["40.0000", "45.0000", "50.0000"]);
    const ties = column(table, "TIES (k=0.2/1)");
    const tiesSv = column(table, "TIES-SV (k=0.2/1, slack 0.04)");
    expect([...ties, ...tiesSv].every((v) => /^5\d\.0000$/.test(v)), `${ties} ${tiesSv}`).toBe(true);

    // The saturation readout names where each series stops improving (the CT scores rise at every checkpoint: not saturated).
    const ctSaturated = await fig2.getByTestId("fig2-saturation").locator('[data-series="CT"]').count();
    expect(ctSaturated).toBe(0);

    // Scores against the merges' own statistics: one dot per merge, the fitted line, the table equal to the API.
    const stats = page.getByTestId("chart-score-stats");
    await expect(stats.locator(".recharts-scatter-symbol")).toHaveCount(6);
    await expect(stats.getByTestId("score-stats-fit")).toContainText("over 6 merges");
    await stats.getByTestId("score-stats-statistic").selectOption("signConflictPct");
    await expect(page).toHaveURL(/stat=signConflictPct/);
    const fromApi = await call<{ points: { label: string; x: number | null }[] }>("charts.scoreStats", { experimentId, split: "test", task: TASK, statistic: "signConflictPct" });
    const statsTable = await tableOf(stats);
    const xCol = statsTable[0]!.findIndex((h) => h.startsWith("positions with a sign conflict"));
    expect(statsTable.slice(1).map((r) => [r[0], Number(r[xCol])]).sort()).toEqual(fromApi.points.map((p) => [p.label, Number(p.x!.toFixed(4))]).sort());
    const fresh = await page.context().newPage();
    await fresh.goto(page.url());
    await expect(fresh.getByTestId("chart-score-stats").getByTestId("score-stats-statistic")).toHaveValue("signConflictPct");
    await expect(fresh.getByTestId("chart-score-stats").getByTestId("data-table")).toBeVisible();
    await fresh.close();

    // Parallel coordinates: brushing the CT-tokens axis (4B and 6B) filters the merge list; the link keeps the brush.
    const parallel = page.getByTestId("chart-parallel");
    await expect(parallel.getByTestId("parallel-line")).toHaveCount(6);
    const area = parallel.locator('[data-testid="parallel-axis"][data-axis="tokensB"] [data-testid="parallel-brush-area"]');
    await area.scrollIntoViewIfNeeded();
    const box = (await area.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.4, { steps: 5 });
    await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.7, { steps: 5 });
    await page.mouse.up();
    await expect(page.getByTestId("pc-count")).toHaveText("4 of 6 selected");
    await expect(page).toHaveURL(/pc=tokensB/);
    for (const text of await page.getByTestId("pc-merge").allTextContents()) expect(text).toMatch(/ct-[46]B|[46]B/);
    await expect(parallel.locator('[data-testid="parallel-line"][data-selected="true"]')).toHaveCount(4);
    const again = await page.context().newPage();
    await again.goto(page.url());
    await expect(again.getByTestId("pc-count")).toHaveText("4 of 6 selected");
    await again.close();

    // 7. Figures 3–4 and the comparison page come from the merges' own statistics.
    await expect(page.getByTestId("chart-fig3").locator(".recharts-area, .recharts-bar-rectangle").first()).toBeVisible();
    const fig4 = await tableOf(page.getByTestId("chart-fig4"));
    for (const col of ["TIES discarded (%)", "TIES-SV discarded (%)", "TIES-SV rescued[sft]"]) expect(column(fig4, col).every((v) => /^\d/.test(v)), `${col}: ${column(fig4, col)}`).toBe(true);
    expect(fig4.length - 1, "a Figure 4 row per checkpoint").toBe(3);
    await page.getByTestId("compare-link").click();
    await expect(page).toHaveURL(/\/analysis\/compare\?/);
    await expect(page.getByTestId("rescued-total")).toHaveAttribute("data-value", /^\d+$/);
    await expect(page.getByTestId("discard-after")).toHaveText(/%$/);
    await expect(page.getByTestId("compare-scores")).toBeVisible();
    await page.screenshot({ path: test.info().outputPath("research-loop.png"), fullPage: true });
    expect(errors.filter((e) => !e.includes("/favicon.ico"))).toEqual([]);
  });
});
