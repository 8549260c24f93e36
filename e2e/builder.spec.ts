import { readFileSync } from "node:fs";
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
  // Telugu: no other spec uses it.
  fam = await registerFamily(request, ctFamily("e2e-builder"), "bld", "tel");
  experimentId = await ensureExperiment(request, {
    name: "Telugu e2e builder",
    language: "tel",
    baseModelId: fam.base.id,
    sftModelId: fam.sft.id,
    ctModelIds: fam.cts.map((c) => c.id),
  });
});

const jobsOf = (request: Parameters<typeof trpcQuery>[0], type: string) =>
  trpcQuery<JobSummary[]>(request, "jobs.list", { experimentId, type: [type] });

test.describe("Merge builder", () => {
  test("should build a TIES-SV merge from an experiment, keep it in the URL and queue it", async ({ page, context, request }) => {
    const errors = watchConsoleErrors(page);
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await page.goto(`/builder?exp=${experimentId}`);
    await expect(page.getByTestId("merge-builder")).toHaveAttribute("data-hydrated", "true");
    const rows = page.getByTestId("builder-model-row");
    // the experiment fills its SFT model and last CT checkpoint
    await expect(rows).toHaveCount(2);
    await expect(rows.nth(0).getByRole("combobox")).toHaveValue(fam.sft.id);
    await expect(rows.nth(1).getByRole("combobox")).toHaveValue(fam.cts[1]!.id);

    await page.getByRole("radio", { name: /^TIES-SV/ }).check();
    await rows.nth(0).getByLabel("Density of bld-sft", { exact: true }).fill("0.2");
    const yaml = page.getByTestId("recipe-yaml");
    await expect(yaml).toContainText("merge_method: ties_sv");
    await expect(yaml).toContainText(`base_model: ${fam.base.path}`);
    await expect(yaml).toContainText("density: 0.2");
    await expect(yaml).toContainText("favored: true");
    await expect(yaml).toContainText("slack: 0.04");
    await expect(page.getByTestId("recipe-status")).toHaveAttribute("data-ok", "true");
    await expect(page).toHaveURL(/method=ties_sv/);
    await expect(page).toHaveURL(/d=0.2%2C1/);

    // A copied link reproduces the recipe.
    await page.goto(page.url());
    await expect(page.getByTestId("merge-builder")).toHaveAttribute("data-hydrated", "true");
    await expect(yaml).toContainText("density: 0.2");
    await expect(page.getByRole("radio", { name: /^TIES-SV/ })).toBeChecked();

    // A recipe problem is shown with its YAML path, and nothing can be queued.
    const base = page.getByTestId("model-list-editor").getByLabel("Base model", { exact: true });
    await base.selectOption("");
    await expect(page.locator('[data-testid="recipe-issue"][data-path="base_model"]')).toContainText("required for merge_method `ties_sv`");
    await expect(page.getByRole("button", { name: "Queue merge" })).toBeDisabled();
    await base.selectOption(fam.base.id);
    await expect(page.getByTestId("recipe-status")).toHaveAttribute("data-ok", "true");

    await page.getByRole("button", { name: "Copy" }).click();
    await expect(page.getByTestId("copy-status")).toHaveText("Copied to the clipboard.");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toContain("merge_method: ties_sv");

    const downloading = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download .yml" }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe("ties-sv-bld-ct-4b-d-0.2-1-slack-0.04.yml");
    expect(readFileSync(await download.path(), "utf8")).toContain("slack_scope: model");
    await page.screenshot({ path: test.info().outputPath("builder.png"), fullPage: true });

    await page.getByRole("button", { name: "Queue merge" }).click();
    await expect(page).toHaveURL(`/jobs?experiment=${experimentId}`);
    await expect
      .poll(async () => (await jobsOf(request, "merge")).map((j) => `${j.label}: ${j.status}`), { timeout: 60_000 })
      .toEqual(["TIES-SV bld-ct-4B d=0.2/1 slack=0.04: done"]);
    expect(errors).toEqual([]);
  });

  test("should queue a density sweep over CT checkpoints and methods", async ({ page, request }) => {
    const errors = watchConsoleErrors(page);
    await page.goto(`/builder?exp=${experimentId}&method=ties`);
    await expect(page.getByTestId("merge-builder")).toHaveAttribute("data-hydrated", "true");
    await expect(page.getByTestId("builder-model-row")).toHaveCount(2);
    const sweep = page.getByTestId("sweep-panel");
    await sweep.getByRole("radio", { name: /^analyze/ }).check();
    const checkpoints = sweep.getByTestId("sweep-checkpoints").getByRole("checkbox");
    await expect(checkpoints).toHaveCount(2);
    for (const c of await checkpoints.all()) await expect(c).toBeChecked();
    await sweep.getByTestId("sweep-methods").getByRole("checkbox", { name: "TIES-SV" }).check();
    await sweep.getByRole("button", { name: "Paper grid for models[0] bld-sft" }).click();
    await expect(sweep.getByRole("textbox", { name: "models[0] bld-sft" })).toHaveValue("0.01, 0.2, 0.4, 0.6, 0.8, 1");
    // 2 checkpoints × 2 methods × 6 SFT densities × 1 CT density
    await expect(sweep.getByTestId("sweep-count")).toHaveText("24 analyze jobs");
    await expect(page).toHaveURL(/smeth=ties%2Cties_sv/);
    await expect(page).toHaveURL(/sd=0.01%2C0.2%2C0.4%2C0.6%2C0.8%2C1%3B1/);
    await page.screenshot({ path: test.info().outputPath("builder-sweep.png"), fullPage: true });

    await sweep.getByRole("button", { name: "Queue sweep" }).click();
    await expect(page).toHaveURL(`/jobs?experiment=${experimentId}`);
    await expect
      .poll(async () => (await jobsOf(request, "analyze")).filter((j) => j.status === "done").length, { timeout: 90_000 })
      .toBe(24);
    expect(errors).toEqual([]);
  });

  test("should fill the form from a pasted mergekit YAML and show errors at their YAML path", async ({ page }) => {
    const errors = watchConsoleErrors(page);
    await page.goto("/builder");
    await expect(page.getByTestId("merge-builder")).toHaveAttribute("data-hydrated", "true");
    await expect(page.getByTestId("merge-builder")).toBeVisible();
    const paste = page.getByTestId("yaml-import");
    await paste.getByLabel("Recipe YAML", { exact: true }).fill(
      ["merge_method: ties", `base_model: ${fam.base.path}`, "models:", `  - model: ${fam.sft.path}`, "    parameters:", "      density: 2", ""].join("\n"),
    );
    await paste.getByRole("button", { name: "Load into the form" }).click();
    const issue = paste.getByTestId("yaml-issue");
    await expect(issue).toHaveAttribute("data-path", "models[0].parameters.density");
    await expect(issue).toContainText("(line 6)");
    await expect(issue).toContainText("expected a number in [0, 1], got 2");

    await paste.getByLabel("Recipe YAML", { exact: true }).fill(
      [
        "merge_method: ties",
        `base_model: ${fam.base.path}`,
        "models:",
        `  - model: ${fam.sft.path}`,
        "    parameters: { weight: 0.7, density: 0.4 }",
        `  - model: ${fam.cts[0]!.path}`,
        "    parameters: { weight: 0.3, density: 0.6 }",
        "parameters:",
        "  lambda: 1.5",
        "dtype: float32",
        "",
      ].join("\n"),
    );
    await paste.getByRole("button", { name: "Load into the form" }).click();
    await expect(paste.getByTestId("yaml-loaded")).toContainText("its experiment is selected");
    await expect(page.getByRole("radio", { name: /^TIES ties/ })).toBeChecked();
    await expect(page).toHaveURL(new RegExp(`exp=${experimentId}`));
    await expect(page).toHaveURL(/d=0.4%2C0.6/);
    await expect(page).toHaveURL(/lambda=1.5/);
    const yaml = page.getByTestId("recipe-yaml");
    await expect(yaml).toContainText("lambda: 1.5");
    await expect(yaml).toContainText("dtype: float32");
    await expect(yaml).toContainText(`model: ${fam.cts[0]!.path}`);
    await expect(page.getByTestId("recipe-status")).toHaveAttribute("data-ok", "true");
    expect(errors).toEqual([]);
  });
  test("should show seed and rescale for DARE-TIES, write them to the YAML preview and queue the merge", async ({ page, request }) => {
    const errors = watchConsoleErrors(page);
    await page.goto(`/builder?exp=${experimentId}`);
    await expect(page.getByTestId("merge-builder")).toHaveAttribute("data-hydrated", "true");
    const rows = page.getByTestId("builder-model-row");
    await expect(rows).toHaveCount(2);
    const params = page.getByTestId("global-params");
    await expect(params.getByLabel("Seed", { exact: true })).toHaveCount(0);

    await page.getByRole("radio", { name: /^DARE \+ TIES dare_ties/ }).check();
    await expect(params.getByLabel("Seed", { exact: true })).toHaveValue("0");
    await expect(params.getByRole("checkbox", { name: "Rescale" })).toBeChecked();
    await expect(params.getByLabel("Consensus", { exact: true })).toBeVisible();
    // DARE's default: no normalize (mergekit's generalized task arithmetic registry)
    await expect(params.getByRole("checkbox", { name: "Normalize" })).not.toBeChecked();
    await expect(rows.nth(0).getByLabel("Gamma", { exact: true })).toHaveCount(0);

    await params.getByLabel("Seed", { exact: true }).fill("42");
    await params.getByRole("checkbox", { name: "Rescale" }).uncheck();
    await rows.nth(0).getByLabel("Density of bld-sft", { exact: true }).fill("0.5");
    const yaml = page.getByTestId("recipe-yaml");
    await expect(yaml).toContainText("merge_method: dare_ties");
    await expect(yaml).toContainText("seed: 42");
    await expect(yaml).toContainText("rescale: false");
    await expect(yaml).toContainText("density: 0.5");
    await expect(page.getByTestId("recipe-status")).toHaveAttribute("data-ok", "true");
    await expect(page).toHaveURL(/method=dare_ties/);
    await expect(page).toHaveURL(/seed=42/);
    await expect(page).toHaveURL(/rescale=0/);
    await page.screenshot({ path: test.info().outputPath("builder-dare.png"), fullPage: true });

    // A copied link reproduces the form.
    await page.goto(page.url());
    await expect(page.getByTestId("merge-builder")).toHaveAttribute("data-hydrated", "true");
    await expect(params.getByLabel("Seed", { exact: true })).toHaveValue("42");
    await expect(params.getByRole("checkbox", { name: "Rescale" })).not.toBeChecked();
    await expect(yaml).toContainText("seed: 42");
    await expect(page.getByTestId("recipe-status")).toHaveAttribute("data-ok", "true");

    await page.getByRole("button", { name: "Queue merge" }).click();
    await expect(page).toHaveURL(`/jobs?experiment=${experimentId}`);
    await expect
      .poll(async () => (await jobsOf(request, "merge")).filter((j) => j.label.startsWith("DARE-TIES")).map((j) => `${j.label}: ${j.status}`), {
        timeout: 60_000,
      })
      .toEqual(["DARE-TIES bld-ct-4B d=0.5/1: done"]);
    expect(errors).toEqual([]);
  });

  test("should hide weights and show t for SLERP, and show the parser's error for two models", async ({ page, request }) => {
    const errors = watchConsoleErrors(page);
    await page.goto(`/builder?exp=${experimentId}`);
    await expect(page.getByTestId("merge-builder")).toHaveAttribute("data-hydrated", "true");
    const rows = page.getByTestId("builder-model-row");
    await expect(rows).toHaveCount(2);
    await expect(rows.nth(0).getByLabel("Weight", { exact: true })).toBeVisible();

    await page.getByRole("radio", { name: /^SLERP slerp/ }).check();
    await expect(rows.nth(0).getByLabel("Weight", { exact: true })).toHaveCount(0);
    await expect(rows.nth(0).getByLabel("Density of bld-sft", { exact: true })).toHaveCount(0);
    const params = page.getByTestId("global-params");
    await expect(params.getByLabel("t", { exact: true })).toHaveValue("0.5");
    await expect(params.getByLabel("λ (lambda)", { exact: true })).toHaveCount(0);
    await expect(params.getByRole("checkbox", { name: "Normalize" })).toHaveCount(0);
    // base + two models: the recipe parser's error, at its YAML path
    await expect(page.locator('[data-testid="recipe-issue"][data-path="models"]')).toContainText(
      "slerp interpolates base_model and exactly one other model; found 2 besides the base",
    );
    await expect(page.getByRole("button", { name: "Queue merge" })).toBeDisabled();

    await rows.nth(0).getByRole("button", { name: "Remove bld-sft" }).click();
    await expect(rows).toHaveCount(1);
    await params.getByLabel("t", { exact: true }).fill("0.3");
    const yaml = page.getByTestId("recipe-yaml");
    await expect(yaml).toContainText("t: 0.3");
    await expect(yaml).toContainText(`model: ${fam.cts[1]!.path}`);
    await expect(yaml).not.toContainText("weight:");
    await expect(page.getByTestId("recipe-status")).toHaveAttribute("data-ok", "true");
    await expect(page).toHaveURL(/t=0.3/);

    await page.getByRole("button", { name: "Queue merge" }).click();
    await expect(page).toHaveURL(`/jobs?experiment=${experimentId}`);
    await expect
      .poll(async () => (await jobsOf(request, "merge")).filter((j) => j.label.startsWith("SLERP")).map((j) => `${j.label}: ${j.status}`), {
        timeout: 60_000,
      })
      .toEqual(["SLERP bld-ct-4B t=0.3: done"]);
    expect(errors).toEqual([]);
  });

  test("should fill gamma and keep_if_no_outliers from a pasted breadcrumbs_ties recipe", async ({ page }) => {
    const errors = watchConsoleErrors(page);
    await page.goto("/builder");
    await expect(page.getByTestId("merge-builder")).toHaveAttribute("data-hydrated", "true");
    await expect(page.getByTestId("merge-builder")).toBeVisible();
    const paste = page.getByTestId("yaml-import");
    await paste.getByLabel("Recipe YAML", { exact: true }).fill(
      [
        "merge_method: breadcrumbs_ties",
        `base_model: ${fam.base.path}`,
        "models:",
        `  - model: ${fam.sft.path}`,
        "    parameters: { weight: 1.0, density: 0.4, gamma: 0.05 }",
        `  - model: ${fam.cts[0]!.path}`,
        "    parameters: { weight: 0.5, density: 0.6 }",
        "parameters:",
        "  gamma: 0.02",
        "  keep_if_no_outliers: true",
        "",
      ].join("\n"),
    );
    await paste.getByRole("button", { name: "Load into the form" }).click();
    await expect(paste.getByTestId("yaml-loaded")).toBeVisible();
    await expect(page.getByRole("radio", { name: /^Model Breadcrumbs \+ TIES breadcrumbs_ties/ })).toBeChecked();
    const rows = page.getByTestId("builder-model-row");
    await expect(rows).toHaveCount(2);
    await expect(rows.nth(0).getByLabel("Gamma", { exact: true })).toHaveValue("0.05");
    await expect(rows.nth(1).getByLabel("Gamma", { exact: true })).toHaveValue("0.02");
    await expect(rows.nth(1).getByLabel("Density of bld-ct-2B", { exact: true })).toHaveValue("0.6");
    const params = page.getByTestId("global-params");
    const keep = params.getByRole("checkbox", { name: /Keep if no outliers/ });
    await expect(keep).toBeChecked();
    await expect(params.getByText("mergekit drops that tensor's whole task vector")).toBeVisible();
    await expect(page).toHaveURL(/kino=1/);
    await expect(page).toHaveURL(/g=0.05%2C0.02/);
    const yaml = page.getByTestId("recipe-yaml");
    await expect(yaml).toContainText("keep_if_no_outliers: true");
    await expect(yaml).toContainText("gamma: 0.05");
    await expect(page.getByTestId("recipe-status")).toHaveAttribute("data-ok", "true");

    // The sweep plans the new methods too: 2 checkpoints × 2 methods × one density per model.
    const sweep = page.getByTestId("sweep-panel");
    await sweep.getByTestId("sweep-methods").getByRole("checkbox", { name: "DARE", exact: true }).check();
    await expect(sweep.getByTestId("sweep-count")).toHaveText("4 merge jobs");
    await expect(page).toHaveURL(/smeth=breadcrumbs_ties%2Cdare_linear/);

    await keep.uncheck();
    await expect(yaml).not.toContainText("keep_if_no_outliers");
    await expect(page).not.toHaveURL(/kino=1/);
    expect(errors).toEqual([]);
  });
});
