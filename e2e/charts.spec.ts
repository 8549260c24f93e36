// Analysis charts against the production build and real workers: a tiny
// synthetic family (3 CT checkpoints) registered as an experiment, an analyze
// sweep over checkpoints × {ties, ties_sv} × 2×2 densities, and the engine's
// own numbers (`mergescope analyze --json`) to compare with what the charts show.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type APIRequestContext, type Locator, type Page } from "./support/fixtures";
import { trpcMutation, trpcQuery } from "./support/api";
import { watchConsoleErrors } from "./support/console";
import { e2eFamily, tiesRecipeYaml } from "./support/family";
import { tableOf } from "./support/figures";

interface Model {
  id: string;
  path: string;
  role: string;
  name: string;
}
interface JobSummary {
  id: string;
  status: string;
  type: string;
  outputPath: string | null;
}
interface Report {
  totals: { nnz_trimmed: number[]; discarded: number[]; conflicts_won: number[]; rescued: number[]; sv_reserved: number };
  byModule: { module: string; rescued: number[] }[];
  tensors: { layer: number | null; module: string; nnz_trimmed: number[]; discarded: number[] }[];
}

const EXPERIMENT = "Telugu e2e charts";
const CTS = ["ct-2B", "ct-4B", "ct-6B"];
let family: string;
let experimentId: string;
let cts: Model[];

/** The engine's statistics for one checkpoint, from the command line (`mergescope analyze --json`). */
function engine(ct: string, method: "ties" | "ties_sv", sft = 0.2): Report {
  const file = path.join(family, `e2e-${method}-${ct}-${sft}.yml`);
  writeFileSync(file, tiesRecipeYaml(ct, method).replace("density: 0.2", `density: ${sft}`));
  const out = execFileSync(process.execPath, [path.resolve("bin/mergescope.mjs"), "analyze", file, "--json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return JSON.parse(out) as Report;
}
const pct4 = (num: number, den: number) => ((100 * num) / den).toFixed(4);

/** Console errors other than Chromium's own request for /favicon.ico (the app's icon is app/icon.svg). */
const appErrors = (errors: string[]) => errors.filter((e) => !e.includes("/favicon.ico"));

async function ensureModel(request: APIRequestContext, p: string, role: string, name: string): Promise<Model> {
  const existing = (await trpcQuery<Model[]>(request, "models.list", {})).find((m) => m.path === p);
  if (existing) return existing;
  return (await trpcMutation<{ model: Model }>(request, "models.register", { path: p, role, name, language: role === "CT" ? "tel" : null })).model;
}

function cell(rows: string[][], rowLabel: string, column: string): string {
  const col = rows[0]!.indexOf(column);
  expect(col, `column ${column} in ${rows[0]!.join(" | ")}`).toBeGreaterThanOrEqual(0);
  const row = rows.find((r) => r[0] === rowLabel);
  expect(row, `row ${rowLabel}`).toBeTruthy();
  return row![col]!;
}

async function openAnalysis(page: Page, query = ""): Promise<void> {
  await page.goto(`/analysis?experiment=${experimentId}${query}`);
  await expect(page.getByTestId("chart-fig3").locator(".recharts-area, .recharts-bar-rectangle").first()).toBeVisible();
}

test.beforeAll(async ({ request }) => {
  test.setTimeout(240_000);
  family = e2eFamily("charts-e2e", { hidden: 64, layers: 2, vocab: 256, ctCheckpoints: 3 });
  const base = await ensureModel(request, path.join(family, "base"), "BASE", "charts-base");
  const sft = await ensureModel(request, path.join(family, "sft"), "SFT", "charts-sft");
  cts = [];
  for (const ct of CTS) cts.push(await ensureModel(request, path.join(family, ct), "CT", `charts-${ct}`));
  const existing = (await trpcQuery<{ id: string; name: string }[]>(request, "experiments.list", {})).find((e) => e.name === EXPERIMENT);
  experimentId =
    existing?.id ??
    (await trpcMutation<{ id: string }>(request, "experiments.create", { name: EXPERIMENT, language: "tel", baseModelId: base.id, sftModelId: sft.id, ctModelIds: cts.map((c) => c.id) })).id;
  // 3 checkpoints × 2 methods × 2 SFT densities × 2 CT densities = 24 analyze jobs (idempotent: a re-run finds them).
  await trpcMutation(request, "jobs.sweep", {
    type: "analyze",
    recipeYaml: tiesRecipeYaml("ct-2B"),
    recipeDir: family,
    checkpoints: cts.map((c) => c.path),
    methods: ["ties", "ties_sv"],
    densities: [
      [0.2, 0.5],
      [0.6, 1.0],
    ],
    experimentId,
    labelPrefix: "e2e charts",
  });
  await expect
    .poll(async () => (await trpcQuery<JobSummary[]>(request, "jobs.list", { experimentId, type: ["analyze"] })).filter((j) => j.status === "done").length, { timeout: 180_000 })
    .toBe(24);
});

test.describe("Analysis charts", () => {
  test("should draw Figures 3–4 with the engine's numbers", async ({ page }) => {
    const errors = watchConsoleErrors(page);
    await openAnalysis(page);
    const ties = engine("ct-6B", "ties");
    const sv = engine("ct-6B", "ties_sv");
    const t = ties.totals;

    const fig4 = await tableOf(page.getByTestId("chart-fig4"));
    expect(cell(fig4, "6B", "TIES discarded[sft]")).toBe(String(t.discarded[0]));
    expect(cell(fig4, "6B", "TIES nnz_trimmed[sft]")).toBe(String(t.nnz_trimmed[0]));
    expect(cell(fig4, "6B", "TIES discarded (%)")).toBe(pct4(t.discarded[0]!, t.nnz_trimmed[0]!));
    expect(cell(fig4, "6B", "TIES-SV discarded[sft]")).toBe(String(sv.totals.discarded[0]));
    expect(cell(fig4, "6B", "TIES-SV rescued[sft]")).toBe(String(sv.totals.rescued[0]));
    expect(cell(fig4, "6B", "TIES-SV discarded (%)")).toBe(pct4(sv.totals.discarded[0]!, sv.totals.nnz_trimmed[0]!));

    const fig3 = await tableOf(page.getByTestId("chart-fig3"));
    expect(cell(fig3, "6B", "Elects SFT sign (%)")).toBe(pct4(t.conflicts_won[0]!, t.nnz_trimmed[0]!));
    expect(cell(fig3, "6B", "Elects CT sign (%)")).toBe(pct4(t.conflicts_won[1]!, t.nnz_trimmed[0]!));
    expect(cell(fig3, "2B", "k_sft")).toBe("0.2");
    expect(cell(fig3, "2B", "k_ct")).toBe("1");

    // Readable as a paper figure: axis units, legend with methods and densities.
    await expect(page.getByTestId("chart-fig4")).toContainText("CT tokens (B)");
    await expect(page.getByTestId("chart-fig4")).toContainText("% of the SFT model's trimmed parameters");
    await expect(page.getByTestId("chart-fig4").locator(".chart-legend")).toContainText("TIES (k=0.2/1)");
    await expect(page.getByTestId("chart-fig4").locator(".chart-legend")).toContainText("TIES-SV (k=0.2/1, slack 0.04)");
    // The tooltip gives the exact value.
    await page.getByTestId("chart-fig4").locator(".recharts-bar-rectangle").last().hover();
    await expect(page.getByTestId("chart-fig4").locator(".chart-tooltip")).toContainText(`${pct4(sv.totals.discarded[0]!, sv.totals.nnz_trimmed[0]!)} %`);

    // The heatmap of the last checkpoint groups the engine's per-tensor counts by layer and module.
    const heat = await tableOf(page.getByTestId("chart-heatmap"));
    const q0 = ties.tensors.filter((x) => x.layer === 0 && x.module === "q");
    const qd = q0.reduce((s, x) => s + x.discarded[0]!, 0);
    const qn = q0.reduce((s, x) => s + x.nnz_trimmed[0]!, 0);
    const qRow = heat.find((r) => r[0] === "layer 0" && r[1] === "q")!;
    expect(qRow.slice(2, 5)).toEqual([pct4(qd, qn), String(qd), String(qn)]);
    await page.screenshot({ path: test.info().outputPath("analysis.png"), fullPage: true });
    expect(appErrors(errors)).toEqual([]);
  });

  test("should update Figures 3–4 from the density explorer without a new job", async ({ page, request }) => {
    const jobsBefore = (await trpcQuery<JobSummary[]>(request, "jobs.list", { limit: 5000 })).length;
    await openAnalysis(page);
    const fig4 = page.getByTestId("chart-fig4");
    const fig3 = page.getByTestId("chart-fig3");
    await tableOf(fig4);
    await tableOf(fig3);
    const sweepCalls: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/trpc/") && r.url().includes("charts.sweep")) sweepCalls.push(r.url());
    });

    const slider = page.getByTestId("density-sft");
    await slider.focus();
    await page.keyboard.press("ArrowRight");
    await expect(page.getByTestId("density-sft-value")).toHaveText("0.5");
    const at05 = engine("ct-4B", "ties", 0.5).totals;
    const sv05 = engine("ct-4B", "ties_sv", 0.5).totals;
    const row = (fig: Locator) => fig.getByTestId("data-table").locator("tr", { has: page.locator("td", { hasText: /^4B$/ }) });
    await expect(row(fig4).locator('td[data-col="tiesDiscarded"]')).toHaveText(String(at05.discarded[0]));
    await expect(row(fig4).locator('td[data-col="ties"]')).toHaveText(pct4(at05.discarded[0]!, at05.nnz_trimmed[0]!));
    await expect(row(fig4).locator('td[data-col="tiesSv"]')).toHaveText(pct4(sv05.discarded[0]!, sv05.nnz_trimmed[0]!));
    await expect(row(fig3).locator('td[data-col="electsSft"]')).toHaveText(pct4(at05.conflicts_won[0]!, at05.nnz_trimmed[0]!));
    await expect(fig4.locator(".chart-legend")).toContainText("TIES (k=0.5/1)");
    await expect(page).toHaveURL(/[?&]sft=0\.5(&|$)/);

    // The CT slider, then a click on the overview grid: still no request for the statistics.
    await page.getByTestId("density-ct").focus();
    await page.keyboard.press("ArrowLeft");
    await expect(page.getByTestId("density-ct-value")).toHaveText("0.6");
    await expect(fig4.locator(".chart-legend")).toContainText("TIES (k=0.5/0.6)");
    await page.getByTestId("chart-density-explorer").getByRole("button", { name: /^0\.2, 1:/ }).click();
    await expect(page.getByTestId("density-sft-value")).toHaveText("0.2");
    await expect(page.getByTestId("density-ct-value")).toHaveText("1");

    expect(sweepCalls).toEqual([]);
    expect((await trpcQuery<JobSummary[]>(request, "jobs.list", { limit: 5000 })).length).toBe(jobsBefore);
  });

  test("should show the engine's rescued parameters on the TIES vs TIES-SV page", async ({ page, browser }) => {
    const errors = watchConsoleErrors(page);
    await openAnalysis(page);
    await page.getByTestId("compare-link").click();
    await expect(page).toHaveURL(/\/analysis\/compare\?/);
    const sv = engine("ct-6B", "ties_sv");
    const ties = engine("ct-6B", "ties");
    await expect(page.getByTestId("rescued-total")).toHaveAttribute("data-value", String(sv.totals.rescued[0]));
    await expect(page.getByTestId("rescued-total")).toHaveText(sv.totals.rescued[0]!.toLocaleString("en-US"));
    await expect(page.getByTestId("discard-before")).toHaveText(`${pct4(ties.totals.discarded[0]!, ties.totals.nnz_trimmed[0]!)} %`);
    await expect(page.getByTestId("discard-after")).toHaveText(`${pct4(sv.totals.discarded[0]!, sv.totals.nnz_trimmed[0]!)} %`);
    for (const g of sv.byModule) {
      await expect(page.getByTestId("rescued-by-module").locator(`tr[data-key="${g.module}"] td[data-col="rescued"]`)).toHaveText(String(g.rescued[0]));
    }
    // The comparison drawn: per module, TIES and TIES-SV discard and the rescued share; its table is the engine's numbers.
    const chart = page.getByTestId("chart-compare");
    await expect(chart.locator(".recharts-bar-rectangle").first()).toBeVisible();
    const byModule = await tableOf(chart);
    for (const g of sv.byModule) expect(cell(byModule, g.module, "rescued")).toBe(String(g.rescued[0]));
    await chart.getByTestId("compare-group").selectOption("layer");
    await expect(page).toHaveURL(/group=layer/);
    await expect(page).toHaveURL(/ctable=1/);
    const byLayer = await tableOf(chart);
    expect(byLayer.slice(1).map((r) => r[0])).toEqual(["layer 0", "layer 1", "outside layers"]);
    // The link reproduces the view in a fresh context.
    const fresh = await browser.newContext({ storageState: await page.context().storageState() });
    const again = await fresh.newPage();
    await again.goto(page.url());
    const replay = again.getByTestId("chart-compare");
    await expect(replay.getByTestId("compare-group")).toHaveValue("layer");
    await expect(replay.getByTestId("data-table")).toBeVisible();
    expect(await tableOf(replay)).toEqual(byLayer);
    await fresh.close();
    await expect(page.getByTestId("recipe-ties-sv")).toContainText("merge_method: ties_sv");
    await expect(page.getByTestId("recipe-ties-sv")).toContainText("favored: true");
    await expect(page.getByTestId("recipe-ties")).toContainText("merge_method: ties");
    await expect(page.getByTestId("compare-no-scores")).toBeVisible();
    await page.screenshot({ path: test.info().outputPath("compare.png"), fullPage: true });
    expect(appErrors(errors)).toEqual([]);
  });

  test("should reproduce a copied link and a short link in a fresh browser", async ({ page, context, browser }) => {
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await openAnalysis(page, "&tables=fig3,fig4&kind=bars");
    await page.getByTestId("density-sft").focus();
    await page.keyboard.press("ArrowRight");
    await expect(page.getByTestId("density-sft-value")).toHaveText("0.5");
    await expect(page).toHaveURL(/sft=0\.5/);
    const fig3 = await tableOf(page.getByTestId("chart-fig3"));
    const fig4 = await tableOf(page.getByTestId("chart-fig4"));

    await page.getByTestId("copy-link").click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(page.url());
    await expect(page.getByTestId("share-url")).toHaveValue(copied);

    const fresh = await browser.newContext();
    const other = await fresh.newPage();
    await other.goto(copied);
    await expect(other.getByTestId("density-sft-value")).toHaveText("0.5");
    await expect(other.getByTestId("fig3-kind")).toHaveValue("bars");
    await expect(other.getByTestId("chart-fig3").getByTestId("data-table")).toBeVisible();
    expect(await tableOf(other.getByTestId("chart-fig3"))).toEqual(fig3);
    expect(await tableOf(other.getByTestId("chart-fig4"))).toEqual(fig4);

    await page.getByTestId("short-link").click();
    const short = await page.getByTestId("short-url").inputValue();
    expect(short).toMatch(/\/v\/[0-9A-Za-z]{8}$/);
    const other2 = await fresh.newPage();
    await other2.goto(short);
    await expect(other2).toHaveURL(new URL(copied).pathname + new URL(copied).search);
    await expect(other2.getByTestId("density-sft-value")).toHaveText("0.5");
    expect(await tableOf(other2.getByTestId("chart-fig4"))).toEqual(fig4);
    await fresh.close();

    await page.goto("/v/doesNotExist1");
    await expect(page.getByTestId("view-not-found")).toBeVisible();
  });

  test("should export a CSV that matches the data table", async ({ page }) => {
    await openAnalysis(page);
    for (const id of ["chart-fig4", "chart-fig3", "chart-heatmap"]) {
      const figure = page.getByTestId(id);
      const table = await tableOf(figure);
      const [download] = await Promise.all([page.waitForEvent("download"), figure.getByTestId("export-csv").click()]);
      expect(download.suggestedFilename()).toMatch(/\.csv$/);
      const text = readFileSync((await download.path())!, "utf8");
      const csv = text
        .trimEnd()
        .split("\n")
        .map((line) => line.split(",").map((c) => c.replace(/^"|"$/g, "").replace(/""/g, '"')));
      expect(csv).toEqual(table);
    }
    const [svg] = await Promise.all([page.waitForEvent("download"), page.getByTestId("chart-fig4").getByTestId("export-svg").click()]);
    const svgText = readFileSync((await svg.path())!, "utf8");
    expect(svgText).toContain("<svg");
    expect(svgText).toContain("Figure 4");
    const [png] = await Promise.all([page.waitForEvent("download"), page.getByTestId("chart-fig3").getByTestId("export-png").click()]);
    expect(readFileSync((await png.path())!).subarray(1, 4).toString()).toBe("PNG");
  });

  test("should fill Figure 2 as scores arrive", async ({ page, request }) => {
    await openAnalysis(page);
    const fig2 = page.getByTestId("chart-fig2");
    await expect(fig2.getByTestId("fig2-empty")).toContainText("No scores yet");
    // A TIES merge of the last checkpoint, scored by its output path (not registered as a model).
    const { job } = await trpcMutation<{ job: JobSummary }>(request, "jobs.enqueue", {
      type: "merge",
      payload: { recipeYaml: tiesRecipeYaml("ct-6B"), recipeDir: family, label: "e2e charts merge" },
      experimentId,
    });
    await expect.poll(async () => (await trpcQuery<{ job: JobSummary }>(request, "jobs.get", { id: job.id })).job.status, { timeout: 60_000 }).toBe("done");
    const merged = (await trpcQuery<{ job: JobSummary }>(request, "jobs.get", { id: job.id })).job.outputPath!;
    const results = (pretrained: string, acc: number) =>
      JSON.stringify({
        results: { belebele_tel_Telu: { alias: "belebele_tel_Telu", "acc,none": acc, "acc_stderr,none": 0.01 } },
        configs: { belebele_tel_Telu: { task: "belebele_tel_Telu", test_split: "test" } },
        "n-shot": { belebele_tel_Telu: 0 },
        config: { model: "hf", model_args: `pretrained=${pretrained}` },
        model_name: pretrained,
        date: 1717236930,
      });
    // CT scores that level off after 4B (+0.2 points at 6B: within the 0.5-point saturation tolerance).
    const ctAcc = [0.3, 0.4, 0.402];
    for (const [i, ct] of cts.entries()) await trpcMutation(request, "scores.importFile", { fileName: `ct${i}.json`, text: results(ct.path, ctAcc[i]!), modelId: ct.id });
    await trpcMutation(request, "scores.importFile", { fileName: "ties6.json", text: results(merged, 0.5) });
    // The figure polls: the series appear without a reload.
    await expect(fig2.locator(".recharts-line").first()).toBeVisible({ timeout: 30_000 });
    await fig2.getByTestId("fig2-task").selectOption("belebele_tel_Telu");
    const table = await tableOf(fig2);
    expect(cell(table, "2B", "CT")).toBe("30.0000");
    expect(cell(table, "6B", "CT")).toBe("40.2000");
    // The saturation readout names where the CT series stops improving.
    await expect(fig2.getByTestId("fig2-saturation").locator('[data-series="CT"]')).toContainText("stops improving at 4B (40.00;");
    expect(cell(table, "6B", "TIES (k=0.2/1)")).toBe("50.0000");
    expect(cell(table, "2B", "TIES (k=0.2/1)")).toBe("");
    await expect(fig2).toContainText("CT tokens (B)");
    await expect(page).toHaveURL(/task=belebele_tel_Telu/);
    // A log axis for series spanning orders of magnitude; the choice is part of the link.
    await fig2.getByRole("checkbox", { name: "log scale (CT tokens)" }).check();
    await expect(page).toHaveURL(/xlog=1/);
    // The tick labels stay in adaptive units on the log axis (Recharts draws them in their own layer of the chart's SVG).
    await expect(fig2.locator("svg.recharts-surface").first()).toContainText(/2B.*4B.*6B/);
  });
});
