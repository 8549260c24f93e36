import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "./support/fixtures";
import { trpcMutation } from "./support/api";
import { ctFamily, e2eDataDir, ensureExperiment, registerFamily } from "./support/checkpoints";
import { watchConsoleErrors } from "./support/console";

async function registerByPath(page: Page, p: string) {
  const form = page.getByTestId("register-model-form");
  await form.getByLabel("Model directory (absolute path) or Hugging Face id").fill(p);
  await form.getByRole("button", { name: "Register" }).click();
}

/** Directories this spec creates outside the server's data directory. */
const outsideDirs: string[] = [];
test.afterAll(() => {
  for (const d of outsideDirs) rmSync(d, { recursive: true, force: true });
});

test.describe("Models", () => {
  test("should register checkpoints one by one with their detected details", async ({ page }) => {
    const errors = watchConsoleErrors(page, { expectHttpErrors: true });
    const fam = ctFamily("e2e-models");
    await page.goto("/models");
    await expect(page.getByTestId("allowed-roots")).toContainText(e2eDataDir());

    await registerByPath(page, fam.base);
    await expect(page.getByTestId("register-result")).toContainText("Registered base as BASE");
    const base = page.locator(`[data-testid="model-row"][data-name="base"]`).filter({ hasText: fam.base });
    await expect(base).toContainText("LlamaForCausalLM");
    await expect(base).toContainText("BF16");
    await expect(base.getByTestId("synthetic-badge")).toHaveText("synthetic");

    const form = page.getByTestId("register-model-form");
    await form.getByLabel("Role").selectOption("SFT");
    await form.getByLabel("Name").fill("e2e-models SFT-flan");
    await form.getByLabel("Language").fill("en");
    await expect(form.getByRole("alert")).toHaveText("'en' is a 2-letter ISO 639-1 code; use the 3-letter ISO 639-3 code eng (English)");
    await form.getByLabel("Language").fill("eng");
    await registerByPath(page, fam.sft);
    await expect(page.getByTestId("register-result")).toContainText("Registered e2e-models SFT-flan as SFT");
    await expect(page.locator(`[data-testid="model-row"][data-name="e2e-models SFT-flan"]`)).toContainText("SFT");

    // Registering the same directory again is refused with the existing name.
    await registerByPath(page, fam.sft);
    await expect(page.getByTestId("register-error")).toContainText("already registered as 'e2e-models SFT-flan'");
    expect(errors).toEqual([]);
  });

  test("should register a folder of CT checkpoints and report each failure", async ({ page }) => {
    const errors = watchConsoleErrors(page);
    const fam = ctFamily("e2e-models");
    // A subdirectory whose weights are not safetensors: reported, the others still registered.
    const broken = path.join(fam.ctFolder, "broken");
    if (!existsSync(broken)) {
      mkdirSync(broken);
      writeFileSync(path.join(broken, "model.safetensors"), Buffer.from([255, 255, 255, 255, 255, 255, 255, 127, 0]));
    }
    await page.goto("/models");
    const form = page.getByTestId("register-folder-form");
    await form.getByLabel("Folder (absolute path)").fill(fam.ctFolder);
    await form.getByLabel("Language").fill("nep");
    await form.getByRole("button", { name: "Register folder" }).click();

    const results = page.getByTestId("folder-results");
    await expect(results).toContainText("2 registered, 0 skipped, 1 failed");
    await expect(results.locator('[data-name="ct-2B"]')).toHaveAttribute("data-status", "registered");
    await expect(results.locator('[data-name="ct-2B"]')).toContainText("2B");
    await expect(results.locator('[data-name="ct-2B"]')).toContainText("trainer_state.json");
    await expect(results.locator('[data-name="ct-4B"]')).toContainText("4B");
    await expect(results.locator('[data-name="broken"]')).toHaveAttribute("data-status", "failed");
    await expect(results.locator('[data-name="broken"]')).toContainText("ST_");

    const row = page.locator('[data-testid="model-row"][data-name="ct-4B"]').filter({ hasText: fam.ctFolder });
    await expect(row).toHaveAttribute("data-role", "CT");
    await expect(row.getByTestId("model-tokens")).toHaveText("4B");
    await expect(row).toContainText("ne");
    await page.screenshot({ path: test.info().outputPath("models.png"), fullPage: true });
    expect(errors).toEqual([]);
  });

  test("should flag a CT model whose vocabulary differs from its base's", async ({ page, request }) => {
    const fam = ctFamily("e2e-models-vocab");
    // The CT run added tokens: its config (and embedding) has more rows than the base's 256.
    const cfgFile = path.join(fam.cts[0]!, "config.json");
    const cfg = JSON.parse(readFileSync(cfgFile, "utf8")) as Record<string, unknown>;
    writeFileSync(cfgFile, JSON.stringify({ ...cfg, vocab_size: 272 }));
    const reg = await registerFamily(request, fam, "vocab", "nep");
    await ensureExperiment(request, { name: "e2e vocab", language: "nep", baseModelId: reg.base.id, sftModelId: reg.sft.id, ctModelIds: reg.cts.map((c) => c.id) });
    const errors = watchConsoleErrors(page);
    await page.goto(`/models?q=${encodeURIComponent(fam.dir)}`);
    const grown = page.locator('[data-testid="model-row"][data-name="vocab-ct-2B"]');
    await expect(grown.getByTestId("model-vocab")).toContainText("272");
    await expect(grown.getByTestId("vocab-differs")).toHaveText("≠ vocab-base (256)");
    const same = page.locator('[data-testid="model-row"][data-name="vocab-ct-4B"]');
    await expect(same.getByTestId("model-vocab")).toHaveText("256");
    await expect(same.getByTestId("vocab-differs")).toHaveCount(0);
    expect(errors).toEqual([]);
  });

  test("should refuse paths outside the allowed roots", async ({ page }) => {
    const fam = ctFamily("e2e-models");
    const root = e2eDataDir();
    // `..` out of the root
    const dotdot = path.join(root, "models", "..", "..");
    // a symlink inside the root to a model outside it
    const outside = mkdtempSync(path.join(os.tmpdir(), "mergescope-e2e-outside-"));
    outsideDirs.push(outside);
    cpSync(fam.base, path.join(outside, "base"), { recursive: true });
    const link = path.join(root, "models", `link-out-${path.basename(outside)}`);
    symlinkSync(path.join(outside, "base"), link);
    // a sibling directory sharing the root's prefix
    const sibling = `${root}-evil`;
    outsideDirs.push(sibling);
    cpSync(fam.base, path.join(sibling, "base"), { recursive: true });

    const errors = watchConsoleErrors(page, { expectHttpErrors: true });
    await page.goto("/models");
    for (const p of [dotdot, link, path.join(sibling, "base")]) {
      await registerByPath(page, p);
      const error = page.getByTestId("register-error");
      await expect(error).toHaveAttribute("data-code", "PATH_NOT_ALLOWED");
      await expect(error).toContainText(p);
      await expect(error).toContainText("outside the allowed model roots");
      await expect(error).toContainText(root);
    }
    await expect(page.getByTestId("models-table")).not.toContainText(sibling);
    expect(errors).toEqual([]);
  });

  test("should keep the filters in the URL and edit and delete a model", async ({ page, request }) => {
    const fam = ctFamily("e2e-models-edit");
    await trpcMutation(request, "models.registerFolder", { path: fam.ctFolder, language: "nep" });
    const errors = watchConsoleErrors(page, { expectHttpErrors: true });
    await page.goto(`/models?role=CT&q=${encodeURIComponent(fam.ctFolder)}`);
    const rows = page.getByTestId("model-row");
    await expect(rows).toHaveCount(2);
    await expect(page.getByTestId("model-filters").getByLabel("Role")).toHaveValue("CT");

    await page.getByTestId("model-filters").getByLabel("Language").fill("nep");
    await expect(page).toHaveURL(/lang=nep/);
    await expect(page).toHaveURL(/role=CT/);
    await page.reload();
    await expect(page.getByTestId("model-filters").getByLabel("Language")).toHaveValue("nep");
    await expect(rows).toHaveCount(2);

    // Edit the token count of ct-2B.
    await page.getByRole("button", { name: "Edit ct-2B" }).click();
    const editor = page.getByTestId("model-row-editor");
    await editor.getByLabel("CT tokens").fill("2.5B");
    await editor.getByRole("button", { name: "Save" }).click();
    await expect(page.locator('[data-testid="model-row"][data-name="ct-2B"]').getByTestId("model-tokens")).toHaveText("2.5B");

    // A token count that cannot be read is refused with a hint.
    await page.getByRole("button", { name: "Edit ct-2B" }).click();
    await editor.getByLabel("CT tokens").fill("lots");
    await editor.getByRole("button", { name: "Save" }).click();
    await expect(editor.getByRole("alert")).toContainText("like 2B");
    await editor.getByRole("button", { name: "Cancel" }).click();

    // Delete ct-4B (two steps).
    await page.getByRole("button", { name: "Delete ct-4B" }).click();
    await page.getByRole("button", { name: "Confirm delete" }).click();
    await expect(rows).toHaveCount(1);

    await page.getByTestId("model-filters").getByLabel("Name or path contains").fill("no-such-model");
    await expect(page.getByTestId("models-empty")).toContainText("No model matches");
    expect(errors).toEqual([]);
  });
});
