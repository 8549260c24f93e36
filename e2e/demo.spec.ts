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
    await expect(page.getByTestId("job-row").first()).toBeVisible();
    await expect
      .poll(
        async () => {
          const jobs = await trpcQuery<Job[]>(request, "jobs.list", { experimentId: demo!.id });
          return jobs.length > 0 && jobs.every((j) => j.status === "done") ? "all done" : `${jobs.filter((j) => j.status === "done").length}/${jobs.length} done`;
        },
        { timeout: 540_000, intervals: [2000] },
      )
      .toBe("all done");
    await page.screenshot({ path: test.info().outputPath("demo-jobs.png"), fullPage: true });
  });
});
