import { readFileSync } from "node:fs";
import path from "node:path";
import { trpcMutation } from "./support/api";
import { expect, test } from "./support/fixtures";
import { dropFiles } from "./support/figures";

const FIX = path.resolve("test/fixtures/lm-eval");
const V042 = "results_2024-06-01T10-15-30.123456.json";
const V045 = "results_2024-07-15T08-30-12.654321.json";
const file = (name: string) => ({ name: path.basename(name), text: readFileSync(path.join(FIX, name), "utf8") });

test.describe("Scores", () => {
  test("should import results files dropped on the page and show their numbers", async ({ page }) => {
    const consoleErrors: string[] = [];
    page.on("console", (msg) => {
      if (msg.type() === "error") consoleErrors.push(msg.text());
    });
    await page.goto("/scores");
    await expect(page.getByRole("heading", { name: "Scores", level: 1 })).toBeVisible();
    await dropFiles(page, [file(V042), file(V045)]);

    const ok = page.getByTestId("import-ok");
    await expect(ok).toHaveCount(2);
    await expect(ok.filter({ hasText: V042 })).toContainText("10 scores for /models/merges/TIES-ben-flan");
    // The split choice is visible: from the task configs.
    await expect(ok.filter({ hasText: V042 })).toContainText("split test — config test_split=test");
    await expect(ok.filter({ hasText: V045 })).toContainText("split dev — config validation_split=dev");

    const bele = page.getByTestId("score-row").and(page.locator('[data-task="belebele_ben_Beng"][data-metric="acc"]'));
    await expect(bele).toHaveCount(1);
    await expect(bele.getByTestId("score-value")).toHaveText("0.3402");
    await expect(bele).toContainText("0.0088");
    const mgsm = page.getByTestId("score-row").and(page.locator('[data-task="mgsm_direct_bn"][data-filter="remove_whitespace"]'));
    await expect(mgsm).toContainText("N/A");

    // Table 3 style: Bengali = mean(MGSM 7.5, SIB-200 79.41, Belebele 34.02).
    const row = page.getByTestId("averages-row").and(page.locator('[data-model="/models/merges/TIES-ben-flan"]'));
    await expect(row.getByTestId("avg-ben")).toHaveText("40.31");
    await expect(page.getByTestId("averages-chart").locator(".recharts-bar-rectangle").first()).toBeVisible();
    await page.getByTestId("averages-split").selectOption("dev");
    const ct = page.getByTestId("averages-row").and(page.locator('[data-model="/models/ct/CT-bod-1B"]'));
    await expect(ct.getByTestId("avg-bod")).toHaveText("47.40");
    await expect(ct.getByTestId("avg-ben")).toHaveAttribute("data-partial", "true");

    // No registered model has these paths: the scores wait to be attached.
    await expect(page.getByTestId("unattached-row").and(page.locator('[data-model-name="/models/ct/CT-bod-1B"]'))).toContainText("8");

    // Dropping the same file again changes nothing.
    await dropFiles(page, [file(V042)]);
    await expect(page.getByTestId("import-ok")).toHaveCount(1);
    await expect(page.getByTestId("import-ok")).toContainText("Already imported: nothing changed.");
    await page.screenshot({ path: test.info().outputPath("scores.png"), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  test("should import with the file input and name the line and field of a malformed file", async ({ page }) => {
    await page.goto("/scores");
    await expect(page.getByTestId("scores-dropzone")).toHaveAttribute("data-ready", "true");
    await page.getByTestId("upload-split").selectOption("dev");
    await page.getByLabel("Results files").setInputFiles([path.join(FIX, "malformed/results_2024.json"), path.join(FIX, "results_legacy-0.3.json")]);
    await expect(page.getByTestId("import-error")).toHaveText("results_2024.json line 14: results.belebele_ben_Beng: expected an object of metric values, got a string");
    const ok = page.getByTestId("import-ok");
    await expect(ok).toContainText("results_legacy-0.3.json: 3 scores for /models/merges/TIES-tam-flan");
    await expect(ok).toContainText("split dev — option");
    const row = page.getByTestId("score-row").and(page.locator('[data-task="belebele_tam_Taml"][data-metric="acc"]'));
    await expect(row.getByTestId("score-value")).toHaveText("0.3653");
    await expect(row).toContainText("dev");
    await page.getByTestId("averages-split").selectOption("dev");
    await expect(page.getByTestId("averages-row").and(page.locator('[data-model="/models/merges/TIES-tam-flan"]')).getByTestId("avg-tam")).toHaveText("58.46");
  });

  test("should show the scores of a file imported while the page's first load is still in flight", async ({ page }) => {
    // Hold the page's first scores list: it is read from the server before the import, and
    // delivered only after the import has succeeded (as on a slow first load). The list must
    // still end up showing the imported scores, not that stale first read.
    let deliverFirstLoad!: () => void;
    const firstLoadMayLand = new Promise<void>((resolve) => (deliverFirstLoad = resolve));
    let held = false;
    await page.route(/\/api\/trpc\/[^?]*scores\.list/, async (route) => {
      if (held || route.request().method() !== "GET") return route.continue();
      held = true;
      const staleResponse = await route.fetch();
      await firstLoadMayLand;
      // The app may have cancelled this request to refetch; then there is nothing to deliver.
      await route.fulfill({ response: staleResponse }).catch(() => undefined);
    });
    await page.goto("/scores");
    const text = file("results_legacy-0.3.json").text.replace("/models/merges/TIES-tam-flan", "/models/merges/TIES-tam-slow-load");
    await dropFiles(page, [{ name: "results_slow-load.json", text }]);
    await expect(page.getByTestId("import-ok")).toContainText("3 scores for /models/merges/TIES-tam-slow-load");
    deliverFirstLoad();

    const row = page.getByTestId("score-row").filter({ hasText: "TIES-tam-slow-load" }).and(page.locator('[data-task="belebele_tam_Taml"][data-metric="acc"]'));
    await expect(row.getByTestId("score-value")).toHaveText("0.3653");
  });

  test("should offer the grid search for every catalogued language, not only the paper's", async ({ page, request }) => {
    // A language the paper does not cover (Georgian, ISO 639-3 + script as lm-eval names it).
    await trpcMutation(request, "scores.catalogue.upsert", { task: "belebele_kat_Geor", benchmark: "Belebele", language: "kat", metric: "acc", filter: "none", scale: 100, priority: 0 });
    await page.goto("/scores");
    const select = page.getByLabel("Score: language average");
    await expect(select.getByRole("option", { name: "kat" })).toHaveCount(1);
    await select.selectOption("kat");
    await expect(page.getByText(/No finished merges yet|kat average/).first()).toBeVisible();
  });
});
