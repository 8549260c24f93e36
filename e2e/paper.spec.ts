import { expect, test } from "./support/fixtures";

test.describe("Paper results", () => {
  test("should show Table 3 as published, with its chart", async ({ page }) => {
    const consoleErrors: string[] = [];
    page.on("console", (msg) => {
      if (msg.type() === "error") consoleErrors.push(msg.text());
    });
    await page.goto("/paper");
    await expect(page.getByRole("heading", { name: "Paper results", level: 1 })).toBeVisible();
    const t3 = page.getByTestId("paper-table-3");
    await expect(t3.getByRole("table")).toContainText("Table 3.");
    const ties = t3.locator('tr[data-row="TIES-X-flan"]');
    await expect(ties).toContainText("58.46");
    await expect(ties.locator("td").last()).toHaveText("46.80");
    await expect(t3.locator('tr[data-row="WAVG-X-flan"]')).toContainText("31.09");
    const chart = page.getByTestId("paper-table3-chart");
    await expect(chart).toBeVisible();
    await expect(chart.locator(".recharts-bar-rectangle").first()).toBeVisible();
    await expect(chart.locator(".recharts-legend-item")).toHaveCount(7);
    await page.screenshot({ path: test.info().outputPath("paper.png"), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  test("should say where the paper disagrees with itself, with both numbers", async ({ page }) => {
    await page.goto("/paper");
    const note = page.getByTestId("paper-discrepancies");
    await expect(note.getByRole("heading", { name: "Where the paper disagrees with itself" })).toBeVisible();
    const items = note.getByTestId("paper-discrepancy");
    await expect(items).toHaveCount(3);
    await expect(items.and(page.locator('[data-id="t3-WAVG-X-flan-mvf"]'))).toContainText("Table 3 (WAVG-X-flan, Mongolian): 31.09 vs Table 13 (WAVG-mvf-flan, Average): 30.09");
    await expect(items.and(page.locator('[data-id="avg-t13-WAVG-mvf-flan"]'))).toContainText("Table 13 prints 30.09 as the average of WAVG-mvf-flan, but its task scores (40.48, 45.00, 35.87, 3.00) average 31.0875.");
    await expect(items.and(page.locator('[data-id="avg-t9-CTSFT-ory-mt"]'))).toContainText("32.35 (66/204)");
    // The cells are marked in the tables themselves.
    const mvf = page.getByTestId("paper-table-13").locator('tr[data-row="WAVG-mvf-flan"]');
    await expect(mvf.locator('td[data-flagged="inconsistent"]')).toContainText("30.09");
    await expect(mvf.getByTestId("recomputed")).toHaveText("31.0875");
    await expect(page.getByTestId("paper-table-3").locator('tr[data-row="WAVG-X-flan"] td[data-flagged="inconsistent"]')).toContainText("31.09");
  });
});
