import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { trpcMutation, trpcQuery } from "./support/api";
import { watchConsoleErrors } from "./support/console";
import { e2eFamily, tiesRecipeYaml } from "./support/family";
import { expect, test } from "./support/fixtures";
import { dropFiles } from "./support/figures";

interface JobSummary {
  id: string;
  status: string;
  outputPath: string | null;
}

/** An lm-eval results file for one model: every task on one split (dev: validation_split, test: test_split). */
function results(pretrained: string, split: "dev" | "test", scores: Record<string, Record<string, number>>): string {
  const tasks = Object.keys(scores);
  return JSON.stringify({
    results: Object.fromEntries(tasks.map((t) => [t, { alias: t, ...scores[t] }])),
    configs: Object.fromEntries(tasks.map((t) => [t, split === "dev" ? { task: t, validation_split: "dev" } : { task: t, test_split: "test" }])),
    "n-shot": Object.fromEntries(tasks.map((t) => [t, 0])),
    config: { model: "hf", model_args: `pretrained=${pretrained}` },
    model_name: pretrained,
    date: 1717236930,
  });
}

test.describe("Languages", () => {
  test("should carry a new language from the experiment form to proposed tasks, averages and the grid search", async ({ page, request }) => {
    test.setTimeout(180_000);
    const errors = watchConsoleErrors(page);
    const family = e2eFamily("languages-e2e", { hidden: 32, layers: 1, vocab: 64, ctCheckpoints: 1 });
    // The training run's trainer_state.json names the language (FLORES-style) in its eval keys.
    const statePath = path.join(family, "ct-2B", "trainer_state.json");
    const state = JSON.parse(readFileSync(statePath, "utf8")) as Record<string, unknown>;
    writeFileSync(statePath, JSON.stringify({ ...state, log_history: [{ step: 10, eval_xka_Geor_loss: 2.1 }, { step: 20, eval_xka_Geor_loss: 2.0 }] }));
    const register = (dir: string, role: string, name: string) =>
      trpcMutation<{ model: { id: string; language: string | null }; languageSource: string | null }>(request, "models.register", { path: path.join(family, dir), role, name });
    await register("base", "BASE", "lang-base");
    await register("sft", "SFT", "lang-sft");
    const ct = await register("ct-2B", "CT", "lang-ct-2B");
    expect(ct.model.language).toBe("xka");
    expect(ct.languageSource).toMatch(/^trainer_state\.json \(xka_Geor 2×/);

    // The form refuses a 2-letter code with the 3-letter one to use, and takes xka_Geor with a name.
    await page.goto("/experiments");
    const form = page.getByTestId("create-experiment-form");
    await form.getByLabel("Name").fill("Mingrelian e2e");
    await form.getByLabel("Target language").fill("ka");
    await expect(form.getByRole("alert")).toHaveText("'ka' is a 2-letter ISO 639-1 code; use the 3-letter ISO 639-3 code kat (Georgian)");
    await form.getByLabel("Target language").fill("xka_Geor");
    await expect(form.getByRole("alert")).toHaveCount(0);
    await form.getByLabel("Language name (optional)").fill("Mingrelian");
    await form.getByLabel("Base model").selectOption({ label: "lang-base" });
    await form.getByLabel("SFT model").selectOption({ label: "lang-sft" });
    await form.getByTestId("ct-checklist").getByRole("checkbox", { name: /lang-ct-2B/ }).check();
    await form.getByRole("button", { name: "Create experiment" }).click();
    await expect(page).toHaveURL(/\/experiments\/[a-z0-9]+$/);
    const experimentId = (await page.getByTestId("experiment-detail").getAttribute("data-experiment-id"))!;

    // Two merges that differ only by the SFT density: the grid.
    const outputs: string[] = [];
    for (const k of [0.2, 0.6]) {
      const { job } = await trpcMutation<{ job: JobSummary }>(request, "jobs.enqueue", {
        type: "merge",
        payload: { recipeYaml: tiesRecipeYaml("ct-2B").replace("density: 0.2", `density: ${k}`), recipeDir: family, label: `e2e languages k=${k}` },
        experimentId,
      });
      await expect.poll(async () => (await trpcQuery<{ job: JobSummary }>(request, "jobs.get", { id: job.id })).job.status, { timeout: 90_000 }).toBe("done");
      outputs.push((await trpcQuery<{ job: JobSummary }>(request, "jobs.get", { id: job.id })).job.outputPath!);
    }
    // Dev tasks named differently from the test tasks; k=0.6 is better on test, k=0.2 on dev.
    const [a, b] = outputs as [string, string];
    const files = [
      { name: "a-dev.json", text: results(a, "dev", { xka_belebele_dev: { "acc,none": 0.6 }, xka_sib200_dev: { "acc,none": 0.7 } }) },
      { name: "a-test.json", text: results(a, "test", { belebele_xka_Geor: { "acc,none": 0.5, "acc_norm,none": 0.45 }, sib200_xka_Geor: { "acc,none": 0.55 } }) },
      { name: "b-dev.json", text: results(b, "dev", { xka_belebele_dev: { "acc,none": 0.4 }, xka_sib200_dev: { "acc,none": 0.5 } }) },
      { name: "b-test.json", text: results(b, "test", { belebele_xka_Geor: { "acc,none": 0.9, "acc_norm,none": 0.85 }, sib200_xka_Geor: { "acc,none": 0.9 } }) },
    ];
    await page.goto("/scores");
    await dropFiles(page, files);
    await expect(page.getByTestId("import-ok")).toHaveCount(4);

    // The catalogue proposes the language's tasks, dev tasks paired; one click adds them.
    const proposals = page.getByTestId("task-proposals");
    await proposals.getByLabel("Language", { exact: true }).fill("xka_Geor");
    await expect(proposals.getByLabel("Language name")).toHaveValue("Mingrelian");
    const rows = proposals.getByTestId("proposal-row");
    await expect(rows).toHaveCount(2);
    await expect(proposals.getByLabel("Dev task of belebele_xka_Geor")).toHaveValue("xka_belebele_dev");
    await expect(proposals.getByLabel("Dev task of sib200_xka_Geor")).toHaveValue("xka_sib200_dev");
    await expect(proposals.getByLabel("Benchmark of sib200_xka_Geor")).toHaveValue("SIB-200");
    await expect(proposals.getByLabel("Primary metric of belebele_xka_Geor").locator("option:checked")).toHaveText("acc");
    await proposals.getByRole("button", { name: "Add 4 tasks to the catalogue" }).click();
    await expect(proposals.getByRole("status")).toHaveText("Added 4 tasks for Mingrelian (xka_Geor) (2 of them as dev tasks of the others).");
    await expect(rows).toHaveCount(0);
    const catalogue = page.getByTestId("catalogue-table");
    await expect(catalogue.getByLabel("Dev task of belebele_xka_Geor")).toHaveValue("xka_belebele_dev");
    await expect(catalogue.getByLabel("Language of sib200_xka_Geor")).toHaveValue("xka");

    // The language's averages: test tasks on test, the paired dev tasks on dev.
    await expect.poll(async () => (await page.getByTestId("avg-xka").allTextContents()).sort()).toEqual(["52.50", "90.00"]);
    await page.getByTestId("averages-split").selectOption("dev");
    await expect.poll(async () => (await page.getByTestId("avg-xka").allTextContents()).sort()).toEqual(["45.00", "65.00"]);

    // The grid search scores by the language: densities chosen on the dev tasks, test reported.
    const grid = page.getByLabel("Score: language average");
    await expect(grid.getByRole("option", { name: "Mingrelian (xka)" })).toHaveCount(1);
    await grid.selectOption("xka");
    await expect(page.getByTestId("grid-best").filter({ hasText: "dev 65.00" })).toHaveText("Best densities by dev: (0.2, 1) — dev 65.00, test 52.50");
    await expect(page.getByText("Score: xka average over Belebele, SIB-200 (dev tasks: xka_belebele_dev → belebele_xka_Geor, xka_sib200_dev → sib200_xka_Geor).")).toBeVisible();
    expect(errors).toEqual([]);
  });
});
