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
});
