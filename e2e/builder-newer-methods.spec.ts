import { expect, test } from "./support/fixtures";
import { trpcQuery } from "./support/api";
import { ctFamily, ensureExperiment, registerFamily, type RegisteredFamily } from "./support/checkpoints";
import { watchConsoleErrors } from "./support/console";

interface JobSummary {
  id: string;
  type: string;
  status: string;
  label: string;
}

let fam: RegisteredFamily;
let experimentId: string;

test.beforeAll(async ({ request }) => {
  // Kannada: no other spec uses it.
  fam = await registerFamily(request, ctFamily("e2e-builder-newer"), "nbl", "kan");
  experimentId = await ensureExperiment(request, {
    name: "Kannada e2e builder, newer methods",
    language: "kan",
    baseModelId: fam.base.id,
    sftModelId: fam.sft.id,
    ctModelIds: fam.cts.map((c) => c.id),
  });
});

test.describe("Merge builder (sce, nuslerp, multislerp, karcher, arcee_fusion, nearswap)", () => {
  test("should build a NuSLERP merge with its own fields, keep it in the URL and queue it", async ({ page, request }) => {
    const errors = watchConsoleErrors(page);
    await page.goto(`/builder?exp=${experimentId}`);
    const rows = page.getByTestId("builder-model-row");
    await expect(rows).toHaveCount(2);
    await page.getByRole("radio", { name: /^NuSLERP nuslerp/ }).check();
    const params = page.getByTestId("global-params");
    await expect(params.getByRole("checkbox", { name: /Flatten/ })).toBeChecked();
    await expect(params.getByRole("checkbox", { name: "Normalize" })).toHaveCount(0);
    await params.getByRole("checkbox", { name: /Flatten/ }).uncheck();
    await params.getByRole("checkbox", { name: /Column vectors/ }).check();
    const yaml = page.getByTestId("recipe-yaml");
    await expect(yaml).toContainText("merge_method: nuslerp");
    await expect(yaml).toContainText("nuslerp_flatten: false");
    await expect(yaml).toContainText("nuslerp_row_wise: true");
    await expect(page.getByTestId("recipe-status")).toHaveAttribute("data-ok", "true");
    await expect(page).toHaveURL(/method=nuslerp/);
    await expect(page).toHaveURL(/nflat=0/);

    // A copied link reproduces the form.
    await page.goto(page.url());
    await expect(params.getByRole("checkbox", { name: /Column vectors/ })).toBeChecked();
    await expect(yaml).toContainText("nuslerp_row_wise: true");

    await page.getByRole("button", { name: "Queue merge" }).click();
    await expect(page).toHaveURL(`/jobs?experiment=${experimentId}`);
    await expect
      .poll(async () => (await trpcQuery<JobSummary[]>(request, "jobs.list", { experimentId, type: ["merge"] })).filter((j) => j.label.startsWith("NuSLERP")).map((j) => j.status), {
        timeout: 60_000,
      })
      .toEqual(["done"]);
    expect(errors).toEqual([]);
  });

  test("should show SCE's select_topk and NearSwap's model count and t", async ({ page }) => {
    const errors = watchConsoleErrors(page);
    await page.goto(`/builder?exp=${experimentId}`);
    const params = page.getByTestId("global-params");
    await page.getByRole("radio", { name: /^SCE sce/ }).check();
    await params.getByLabel(/Select top-k/).fill("0.4");
    const yaml = page.getByTestId("recipe-yaml");
    await expect(yaml).toContainText("select_topk: 0.4");
    await expect(yaml).not.toContainText("weight:");
    await expect(page.getByTestId("recipe-status")).toHaveAttribute("data-ok", "true");

    await page.getByRole("radio", { name: /^NearSwap nearswap/ }).check();
    await expect(params.getByLabel(/t \(distance\)/)).toHaveValue("0.001");
    // two models: mergekit's nearswap takes exactly one besides the base
    await expect(page.locator('[data-testid="recipe-issue"][data-path="models"]')).toContainText("nearswap merges base_model with exactly one other model; found 2");
    await page.getByTestId("builder-model-row").nth(0).getByRole("button", { name: /Remove/ }).click();
    await expect(page.getByTestId("recipe-status")).toHaveAttribute("data-ok", "true");
    await expect(yaml).toContainText("t: 0.001");
    expect(errors).toEqual([]);
  });
});
