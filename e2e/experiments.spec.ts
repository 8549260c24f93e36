import { expect, test } from "./support/fixtures";
import { trpcMutation, trpcQuery } from "./support/api";
import { ctFamily, ensureExperiment, registerFamily, type RegisteredFamily } from "./support/checkpoints";
import { watchConsoleErrors } from "./support/console";

interface JobSummary {
  id: string;
  status: string;
}

// Tamil: no other spec registers checkpoints for it, so the form lists only these.
const LANG = "tam";
let fam: RegisteredFamily;

test.beforeAll(async ({ request }) => {
  fam = await registerFamily(request, ctFamily("e2e-experiments"), "exp", LANG);
});

test.describe("Experiments", () => {
  test("should create an experiment and draw its lineage graph", async ({ page }) => {
    const errors = watchConsoleErrors(page);
    await page.goto("/experiments");
    const form = page.getByTestId("create-experiment-form");
    await form.getByLabel("Name").fill("Tamil e2e");
    await form.getByLabel("Target language").fill(LANG);
    await form.getByLabel("Base model").selectOption({ label: "exp-base" });
    await form.getByLabel("SFT model").selectOption({ label: "exp-sft (eng)" });
    const cts = form.getByTestId("ct-checklist");
    await expect(cts.getByRole("checkbox")).toHaveCount(2);
    await cts.getByRole("button", { name: "Select all" }).click();
    await form.getByRole("button", { name: "Create experiment" }).click();

    await expect(page).toHaveURL(/\/experiments\/[a-z0-9]+$/);
    const detail = page.getByTestId("experiment-detail");
    await expect(detail.getByRole("heading", { level: 1 })).toContainText("Tamil e2e");
    const graph = page.getByTestId("lineage-graph");
    await expect(graph).toBeVisible();
    const node = (label: string) => graph.locator(`[data-testid="lineage-node"][data-label="${label}"]`);
    await expect(node("BASE")).toHaveAttribute("data-kind", "BASE");
    await expect(node("SFT")).toContainText("exp-sft");
    await expect(node("CT-2B")).toContainText("exp-ct-2B");
    await expect(node("CT-4B")).toBeVisible();
    // Figure 1's merges of each checkpoint, not queued yet
    for (const label of ["TIES-2B", "WAVG-2B", "TIES-4B", "WAVG-4B"]) await expect(node(label)).toHaveAttribute("data-planned", "true");
    const edge = (from: string, to: string) => graph.locator(`[data-testid="lineage-edge"][data-from="${from}"][data-to="${to}"]`);
    await expect(edge("BASE", "SFT")).toHaveCount(1);
    await expect(edge("BASE", "CT-4B")).toHaveCount(1);
    await expect(edge("CT-4B", "TIES-4B")).toHaveCount(1);
    await expect(edge("SFT", "TIES-4B")).toHaveCount(1);

    await expect(page.getByTestId("experiment-model")).toHaveCount(4);
    await expect(page.getByTestId("experiment-jobs-empty")).toBeVisible();
    const id = await detail.getAttribute("data-experiment-id");
    await expect(page.getByTestId("open-builder")).toHaveAttribute("href", `/builder?exp=${id}`);
    await page.screenshot({ path: test.info().outputPath("experiment.png"), fullPage: true });

    await page.goto(`/experiments?lang=${LANG}`);
    await expect(page.locator('[data-testid="experiment-row"][data-name="Tamil e2e"]')).toContainText("exp-base");
    await page.screenshot({ path: test.info().outputPath("experiments.png"), fullPage: true });
    expect(errors).toEqual([]);
  });

  test("should list the experiment's jobs and draw its merges in the lineage", async ({ page, request }) => {
    const exp = {
      id: await ensureExperiment(request, {
        name: "Tamil e2e merges",
        language: LANG,
        baseModelId: fam.base.id,
        sftModelId: fam.sft.id,
        ctModelIds: fam.cts.map((c) => c.id),
      }),
    };
    const recipe = [
      "merge_method: ties_sv",
      `base_model: ${fam.base.path}`,
      "models:",
      `  - model: ${fam.sft.path}`,
      "    parameters: { weight: 1.0, density: 0.2, favored: true }",
      `  - model: ${fam.cts[1]!.path}`,
      "    parameters: { weight: 1.0, density: 1.0 }",
      "parameters: { slack: 0.04 }",
      "",
    ].join("\n");
    const { job } = await trpcMutation<{ job: JobSummary }>(request, "jobs.enqueue", {
      type: "merge",
      payload: { recipeYaml: recipe, recipeDir: "/", label: "e2e TIES-SV ct-4B" },
      experimentId: exp.id,
    });
    await expect.poll(async () => (await trpcQuery<{ job: JobSummary }>(request, "jobs.get", { id: job.id })).job.status, { timeout: 60_000 }).toBe("done");

    const errors = watchConsoleErrors(page);
    await page.goto(`/experiments/${exp.id}`);
    await expect(page.locator('[data-testid="experiment-job"][data-status="done"]')).toContainText("e2e TIES-SV ct-4B");
    const merged = page.getByTestId("lineage-graph").locator('[data-testid="lineage-node"][data-label="TIES-SV-4B"]');
    await expect(merged).toHaveAttribute("data-planned", "false");
    await expect(merged).toContainText("1 merge: 1 done");
    expect(errors).toEqual([]);
  });

  test("should say clearly when an experiment does not exist", async ({ page }) => {
    const errors = watchConsoleErrors(page, { expectHttpErrors: true });
    await page.goto("/experiments/does-not-exist");
    await expect(page.getByTestId("experiment-error")).toContainText("experiment does-not-exist not found");
    await expect(page.getByRole("link", { name: "Back to the experiments" })).toBeVisible();
    expect(errors).toEqual([]);
  });
});
