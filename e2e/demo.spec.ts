import { expect, test } from "./support/fixtures";
import { trpcQuery } from "./support/api";

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
    await expect(page).toHaveURL(/mtable=1/);
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
