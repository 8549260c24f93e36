import { expect, test } from "./support/fixtures";
import { trpcQuery } from "./support/api";
import { ctFamily, ensureExperiment, registerFamily, type RegisteredFamily } from "./support/checkpoints";
import { watchConsoleErrors } from "./support/console";

interface JobSummary {
  id: string;
  status: string;
  label: string;
}

let fam: RegisteredFamily;
let experimentId: string;

test.beforeAll(async ({ request }) => {
  // Kannada: no other spec uses it.
  fam = await registerFamily(request, ctFamily("e2e-layers"), "lay", "kan");
  experimentId = await ensureExperiment(request, {
    name: "Kannada e2e layer swap",
    language: "kan",
    baseModelId: fam.base.id,
    sftModelId: fam.sft.id,
    ctModelIds: fam.cts.map((c) => c.id),
  });
});

const mergeJobs = async (request: Parameters<typeof trpcQuery>[0], prefix: string) =>
  (await trpcQuery<JobSummary[]>(request, "jobs.list", { experimentId, type: ["merge"] }))
    .filter((j) => j.label.startsWith(prefix))
    .map((j) => `${j.label}: ${j.status}`);

test.describe("Layer-wise merges in the builder", () => {
  test("should build a layer swap as slices, show its layer strip and queue it to completion", async ({ page, request }) => {
    const errors = watchConsoleErrors(page);
    await page.goto(`/builder?exp=${experimentId}`);
    await expect(page.getByTestId("builder-model-row")).toHaveCount(2);
    const swap = page.getByTestId("layer-swap");
    await swap.getByLabel("Language model").selectOption(fam.cts[1]!.id);
    await swap.getByLabel("Task model").selectOption(fam.sft.id);
    await swap.getByLabel("Layers", { exact: true }).fill("2");
    await swap.getByLabel("Bottom layers").fill("1");
    await swap.getByLabel("Top layers").fill("0");
    // layer 0 from the language model, layer 1 from the task model
    const cells = swap.getByTestId("layer-strip").getByRole("listitem");
    await expect(cells).toHaveCount(4);
    await expect(cells.nth(1)).toHaveAttribute("data-from", fam.cts[1]!.name);
    await expect(cells.nth(2)).toHaveAttribute("data-from", fam.sft.name);
    await swap.getByRole("button", { name: "Use this layer swap" }).click();

    await expect(page.getByRole("radio", { name: /^Passthrough/ })).toBeChecked();
    await expect(page.getByTestId("builder-slices").getByTestId("layer-strip")).toBeVisible();
    const yaml = page.getByTestId("recipe-yaml");
    await expect(yaml).toContainText("merge_method: passthrough");
    await expect(yaml).toContainText("slices:");
    await expect(yaml).toContainText("layer_range");
    await expect(page.getByTestId("recipe-status")).toHaveAttribute("data-ok", "true");
    await page.screenshot({ path: test.info().outputPath("builder-layer-swap.png"), fullPage: true });

    // a copied link keeps the slices
    await page.goto(page.url());
    await expect(page.getByTestId("builder-slices")).toBeVisible();
    await expect(page.getByTestId("recipe-status")).toHaveAttribute("data-ok", "true");

    await page.getByRole("button", { name: "Queue merge" }).click();
    await expect(page).toHaveURL(`/jobs?experiment=${experimentId}`);
    await expect.poll(() => mergeJobs(request, "Passthrough"), { timeout: 60_000 }).toEqual([`Passthrough ${fam.sft.name} 2 slices: done`]);
    expect(errors).toEqual([]);
  });

  test("should build a density gradient, draw it per layer and queue it to completion", async ({ page, request }) => {
    const errors = watchConsoleErrors(page);
    await page.goto(`/builder?exp=${experimentId}&method=ties&nl=2`);
    const rows = page.getByTestId("builder-model-row");
    await expect(rows).toHaveCount(2);
    await rows.nth(0).getByRole("button", { name: `Density of ${fam.sft.name} per layer` }).click();
    await rows.nth(0).getByLabel(`Density of ${fam.sft.name} gradient points`).fill("0.2, 0.6");
    const curve = rows.nth(0).getByTestId("layer-curve");
    await expect(curve).toHaveAttribute("data-values", "0.2,0.6");
    const yaml = page.getByTestId("recipe-yaml");
    await expect(yaml).toContainText("- 0.2");
    await expect(yaml).toContainText("- 0.6");
    await expect(page.getByTestId("recipe-status")).toHaveAttribute("data-ok", "true");
    await page.screenshot({ path: test.info().outputPath("builder-gradient.png"), fullPage: true });

    await page.getByRole("button", { name: "Queue merge" }).click();
    await expect(page).toHaveURL(`/jobs?experiment=${experimentId}`);
    await expect
      .poll(() => mergeJobs(request, "TIES "), { timeout: 60_000 })
      .toEqual([`TIES ${fam.cts[1]!.name} d=0.2/1 per-layer: done`]);
    expect(errors).toEqual([]);
  });
});
