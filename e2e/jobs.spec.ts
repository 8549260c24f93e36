import { existsSync } from "node:fs";
import { expect, test } from "./support/fixtures";
import { trpcMutation, trpcQuery } from "./support/api";
import { e2eFamily, tiesRecipeYaml } from "./support/family";

interface JobSummary {
  id: string;
  status: string;
  outputPath: string | null;
  errorCode: string | null;
}

test.describe("Jobs", () => {
  test("should show a queued merge running to done with live progress", async ({ page, request }) => {
    const family = e2eFamily("jobs-small", { hidden: 64, layers: 2, vocab: 256, ctCheckpoints: 2 });
    const { job } = await trpcMutation<{ job: JobSummary }>(request, "jobs.enqueue", {
      type: "merge",
      payload: { recipeYaml: tiesRecipeYaml("ct-2B"), recipeDir: family, label: "e2e ties ct-2B" },
    });
    await page.goto("/jobs");
    const row = page.locator(`[data-job-id="${job.id}"]`);
    await expect(row).toBeVisible();
    await expect(row.getByTestId("job-status")).toHaveText("done");
    await expect(row.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100");
    await row.getByTestId("job-logs-toggle").click();
    await expect(page.getByTestId("job-logs")).toContainText("done");
    await expect(page.getByTestId("job-logs")).toContainText("sha256");
    await page.screenshot({ path: test.info().outputPath("jobs.png"), fullPage: true });
  });

  test("should keep the status filter in the URL", async ({ page }) => {
    await page.goto("/jobs?status=failed");
    await expect(page.getByTestId("filter-status-failed")).toBeChecked();
    await page.getByTestId("filter-status-done").check();
    await expect(page).toHaveURL(/status=failed%2Cdone|status=failed,done/);
  });

  test("should cancel a running merge and leave no output", async ({ page, request }) => {
    // ~110M parameters per model: the merge runs for a few seconds.
    const family = e2eFamily("jobs-large", { hidden: 1024, layers: 4, vocab: 32000, ctCheckpoints: 1 });
    const { job } = await trpcMutation<{ job: JobSummary }>(request, "jobs.enqueue", {
      type: "merge",
      payload: { recipeYaml: tiesRecipeYaml("ct-2B", "ties_sv"), recipeDir: family, label: "e2e cancel", outputName: "e2e-cancel-me" },
      priority: 50,
    });
    await page.goto(`/jobs?type=merge`);
    const row = page.locator(`[data-job-id="${job.id}"]`);
    await expect(row.getByTestId("job-status")).toHaveText("running");
    await row.getByTestId("job-cancel").click();
    await expect(row.getByTestId("job-status")).toHaveText("cancelled");
    const after = await trpcQuery<{ job: JobSummary }>(request, "jobs.get", { id: job.id });
    expect(after.job.outputPath).toBeNull();
    expect(after.job.errorCode).toBe("CANCELLED");
    // Nothing published under the merges folder for this job, and no staging left.
    await expect
      .poll(async () => {
        const { readdirSync } = await import("node:fs");
        const dir = `${process.env.E2E_DATA_DIR}/merges`;
        return existsSync(dir) ? readdirSync(dir).filter((n) => n.includes("e2e-cancel-me")) : [];
      })
      .toEqual([]);
  });

  test("should fail a malformed checkpoint once with its error code", async ({ page, request }) => {
    const family = e2eFamily("jobs-small", { hidden: 64, layers: 2, vocab: 256, ctCheckpoints: 2 });
    const { mkdirSync, writeFileSync } = await import("node:fs");
    mkdirSync(`${family}/broken`, { recursive: true });
    writeFileSync(`${family}/broken/model.safetensors`, Buffer.from("PK\x03\x04 not safetensors"));
    const { job } = await trpcMutation<{ job: JobSummary }>(request, "jobs.enqueue", {
      type: "merge",
      payload: { recipeYaml: tiesRecipeYaml("broken"), recipeDir: family, label: "e2e broken" },
    });
    await page.goto("/jobs?status=failed");
    const row = page.locator(`[data-job-id="${job.id}"]`);
    await expect(row.getByTestId("job-error")).toContainText("ST_ZIP_FORMAT");
    await expect(row).toContainText("1/3");
  });
});
