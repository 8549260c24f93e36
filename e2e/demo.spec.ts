import { readFileSync } from "node:fs";
import { expect, test } from "./support/fixtures";
import { trpcQuery } from "./support/api";
import { tableOf } from "./support/figures";

interface Experiment {
  id: string;
  name: string;
  synthetic: boolean;
}
interface Job {
  id: string;
  status: string;
  type: string;
}

test.describe("Demo", () => {
  test("should create the synthetic demo experiment on a fresh data directory and finish its jobs", async ({ page, request }) => {
    test.setTimeout(600_000);
    const experiments = await trpcQuery<Experiment[]>(request, "experiments.list", {});
    const demo = experiments.find((e) => e.synthetic && /demo/i.test(e.name));
    expect(demo, "the demo experiment exists").toBeTruthy();
    await page.goto("/experiments");
    await expect(page.getByText(demo!.name)).toBeVisible();
    await expect(page.getByText(/synthetic/i).first()).toBeVisible();

    await page.goto(`/jobs?experiment=${demo!.id}`);
    // The demo queues three sweeps (density analyses, TIES-SV analyses, merges): three rows, not one per job.
    const sweeps = page.getByTestId("sweep-row");
    await expect(sweeps).toHaveCount(3);
    await expect(page.getByTestId("job-row")).toHaveCount(0);
    await expect
      .poll(
        async () => {
          const jobs = await trpcQuery<Job[]>(request, "jobs.list", { experimentId: demo!.id });
          return jobs.length > 0 && jobs.every((j) => j.status === "done") ? "all done" : `${jobs.filter((j) => j.status === "done").length}/${jobs.length} done`;
        },
        { timeout: 540_000, intervals: [2000] },
      )
      .toBe("all done");
    const jobs = await trpcQuery<Job[]>(request, "jobs.list", { experimentId: demo!.id });
    const totals = await sweeps.evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-total"))));
    expect(totals.reduce((a, b) => a + b, 0)).toBe(jobs.length);
    // Expanding the merge sweep lists its jobs, each done.
    const merges = sweeps.filter({ hasText: "demo merge" });
    await expect(merges.getByTestId("sweep-counts")).toHaveText(`${jobs.filter((j) => j.type === "merge").length} done`);
    await merges.getByRole("button", { name: /Show the jobs of demo merge/ }).click();
    await expect(page.getByTestId("job-row")).toHaveCount(jobs.filter((j) => j.type === "merge").length);
    await expect(page.getByTestId("job-row").first().getByTestId("job-status")).toHaveText("done");
    await page.screenshot({ path: test.info().outputPath("demo-jobs.png"), fullPage: true });
  });

  test("should draw the task-vector geometry along the demo's CT series, equal to the API, and reproduce it from its link", async ({ page, request, browser }) => {
    test.setTimeout(600_000);
    const demo = (await trpcQuery<Experiment[]>(request, "experiments.list", {})).find((e) => e.synthetic && /demo/i.test(e.name))!;
    type Group = { sftNorm: number | null; ctNorm: number | null; cosine: number | null; signAgreement: number | null; jaccard: { sftDensity: number; ctDensity: number; jaccard: number | null }[] };
    type Series = { checkpoints: { label: string; total: Group | null; byLayer: (Group & { layer: number | null })[]; byModule: (Group & { module: string })[] }[] };
    // Every demo checkpoint analysed (the density sweep carries the geometry).
    await expect
      .poll(async () => (await trpcQuery<Series>(request, "charts.geometry", { experimentId: demo.id })).checkpoints.filter((c) => c.total !== null).length, { timeout: 540_000, intervals: [2000] })
      .toBe(6);
    const series = await trpcQuery<Series>(request, "charts.geometry", { experimentId: demo.id });

    await page.goto(`/analysis?experiment=${demo.id}`);
    const chart = page.getByTestId("chart-geometry");
    // Small multiples: the whole model, then one panel per module, each a line per series.
    await expect(chart.getByTestId("geometry-panel")).toHaveCount(1 + series.checkpoints[0]!.byModule.length);
    await expect(chart.getByTestId("geometry-panel").first().locator("[data-series] polyline")).toHaveCount(3);

    // Per layer, with the Jaccard overlap at the selected densities (the paper's 0.2 / 1.0): the table is the API's numbers.
    await chart.getByTestId("geometry-by").selectOption("layer");
    await chart.getByTestId("geometry-metric").selectOption("jaccard");
    await expect(page).toHaveURL(/geo=layer/);
    await expect(page).toHaveURL(/geom=jaccard/);
    const table = await tableOf(chart);
    const fmt = (v: number | null) => (v === null ? "" : v.toFixed(4));
    const want = [
      ...series.checkpoints.map((c) => ["whole model", c.label, c.total!]),
      ...series.checkpoints[0]!.byLayer.flatMap((l) =>
        series.checkpoints.map((c) => [l.layer === null ? "outside the layers" : `layer ${l.layer}`, c.label, c.byLayer.find((x) => x.layer === l.layer)!] as const),
      ),
    ].map(([group, label, g]) => {
      const gg = g as Group;
      return [group as string, label as string, fmt(gg.sftNorm), fmt(gg.ctNorm), fmt(gg.jaccard.find((j) => j.sftDensity === 0.2 && j.ctDensity === 1)?.jaccard ?? null)];
    });
    const pick = (rows: string[][]) => rows.slice(1).map((r) => [r[0]!, r[1]!, r[3]!, r[4]!, r[6]!]);
    expect(pick(table)).toEqual(want);
    expect(table[0]![6]).toBe("Jaccard at k_sft 0.2, k_ct 1");

    // The SVG export draws every panel in one picture.
    const [svg] = await Promise.all([page.waitForEvent("download"), chart.getByTestId("export-svg").click()]);
    const text = readFileSync((await svg.path())!, "utf8");
    expect(text.match(/class="small-multiple-svg"/g)?.length).toBe(1 + series.checkpoints[0]!.byLayer.length);
    expect(text.match(/<polyline /g)?.length).toBe(3 * (1 + series.checkpoints[0]!.byLayer.length));

    // The link reproduces the view in a fresh context.
    await expect(page).toHaveURL(/tables=geometry/);
    const fresh = await browser.newContext({ storageState: await page.context().storageState() });
    const again = await fresh.newPage();
    await again.goto(page.url());
    const replay = again.getByTestId("chart-geometry");
    await expect(replay.getByTestId("geometry-by")).toHaveValue("layer");
    await expect(replay.getByTestId("geometry-metric")).toHaveValue("jaccard");
    await expect(replay.getByTestId("data-table")).toBeVisible();
    expect(await tableOf(replay)).toEqual(table);
    await fresh.close();
  });

  test("should show the methods side by side at a demo checkpoint, equal to the API, and reproduce it from its link", async ({ page, request, browser }) => {
    test.setTimeout(600_000);
    const demo = (await trpcQuery<Experiment[]>(request, "experiments.list", {})).find((e) => e.synthetic && /demo/i.test(e.name))!;
    type Parts = { numel: number; keptPct: number | null; discardedPct: number | null; trimmedPct: number | null; rescued: number };
    type Methods = { checkpoint: { label: string } | null; methods: { method: string; label: string; slack: number | null }[]; byLayer: { label: string; byMethod: Record<string, Parts> }[] };
    // TIES, TIES-SV, DARE-TIES and breadcrumbs-TIES analysed at the last checkpoint (the paper's densities).
    await expect
      .poll(async () => (await trpcQuery<Methods>(request, "charts.methods", { experimentId: demo.id })).methods.map((m) => m.method).join(","), { timeout: 540_000, intervals: [2000] })
      .toBe("ties,ties_sv,dare_ties,breadcrumbs_ties");
    const api = await trpcQuery<Methods>(request, "charts.methods", { experimentId: demo.id });

    await page.goto(`/analysis/compare?experiment=${demo.id}`);
    const chart = page.getByTestId("chart-methods");
    await expect(chart.locator(".recharts-bar-rectangle").first()).toBeVisible();
    await expect(chart.getByTestId("methods-missing")).toContainText("DELLA, SCE");
    await page.getByTestId("compare-group").selectOption("layer");
    await expect(page).toHaveURL(/group=layer/);
    const table = await tableOf(chart);
    await expect(page).toHaveURL(/mtable=1/);
    const fmt = (v: number | null) => (v === null ? "" : v.toFixed(4));
    const label = (m: Methods["methods"][number]) => (m.slack !== null ? `${m.label} (slack ${m.slack})` : m.label);
    expect(table.slice(1).map((r) => [r[0], r[1], r[3], r[4], r[5]])).toEqual(
      api.byLayer.flatMap((g) => api.methods.map((m) => [g.label, label(m), fmt(g.byMethod[m.method]!.keptPct), fmt(g.byMethod[m.method]!.discardedPct), fmt(g.byMethod[m.method]!.trimmedPct)])),
    );

    const fresh = await browser.newContext({ storageState: await page.context().storageState() });
    const again = await fresh.newPage();
    await again.goto(page.url());
    await expect(again.getByTestId("chart-methods").getByTestId("data-table")).toBeVisible();
    expect(await tableOf(again.getByTestId("chart-methods"))).toEqual(table);
    await fresh.close();
  });

  test("should draw the SFT model's lost-election margins with the slack cut on the TIES vs TIES-SV page", async ({ page, request, browser }) => {
    test.setTimeout(600_000);
    const demo = (await trpcQuery<Experiment[]>(request, "experiments.list", {})).find((e) => e.synthetic && /demo/i.test(e.name))!;
    const sweep = await trpcQuery<{ checkpoints: { modelId: string; tokensB: number | null }[] }>(request, "charts.sweep", { experimentId: demo.id });
    const ckpt = sweep.checkpoints.filter((c) => c.tokensB !== null).at(-1)!.modelId;
    const input = { experimentId: demo.id, checkpointId: ckpt, sftDensity: 0.2, ctDensity: 1, slack: null, split: "test" };
    // The demo's TIES-SV analyses finish in the background (the first test waits for them when run before this one).
    await expect
      .poll(async () => ((await trpcQuery<{ margins: unknown }>(request, "charts.compare", input)).margins ? "margins" : "none"), { timeout: 540_000, intervals: [2000] })
      .toBe("margins");
    const api = (await trpcQuery<{ margins: Margins }>(request, "charts.compare", input)).margins;
    expect(api.nCandidates).toBeGreaterThan(0);
    expect(api.cut).not.toBeNull();

    await page.goto(`/analysis/compare?experiment=${demo.id}&ckpt=${ckpt}&sft=0.2&ct=1`);
    const chart = page.getByTestId("chart-margins");
    await expect(chart.getByRole("heading", { name: "Lost-election margins of the SFT model" })).toBeVisible();
    await expect(chart.locator(".recharts-bar-rectangle").first()).toBeVisible();
    await expect(chart.locator(".recharts-reference-line")).toHaveCount(1);
    await expect(chart.getByTestId("margin-summary")).toContainText(`${api.nCandidates.toLocaleString("en-US")} SFT parameters lost the sign election`);
    await expect(chart.locator(".chart-legend")).toContainText(`${api.nReserved.toLocaleString("en-US")} reserved`);
    // The data table is the API's bins; opening it goes into the URL.
    await chart.getByTestId("data-table-toggle").click();
    await expect(page).toHaveURL(/htable=1/);
    const table = chart.getByTestId("data-table");
    await expect(table).toBeVisible();
    const rows = await table.locator("tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("th,td")].map((c) => c.textContent ?? "")));
    expect(rows.slice(1).map((r) => [r[0], r[3], r[4], r[5]])).toEqual(api.bins.map((b) => [b.label, String(b.candidates), String(b.reserved), String(b.notReserved)]));
    // The link reproduces the view in a fresh context.
    const fresh = await browser.newContext({ storageState: await page.context().storageState() });
    const again = await fresh.newPage();
    await again.goto(page.url());
    const replay = again.getByTestId("chart-margins");
    await expect(replay.getByTestId("data-table")).toBeVisible();
    expect(await replay.getByTestId("data-table").locator("tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("th,td")].map((c) => c.textContent ?? "")))).toEqual(rows);
    await fresh.close();
    await page.screenshot({ path: test.info().outputPath("demo-margins.png"), fullPage: true });
  });
});

interface Margins {
  nCandidates: number;
  nReserved: number;
  cut: number | null;
  bins: { label: string; candidates: number; reserved: number; notReserved: number }[];
}
