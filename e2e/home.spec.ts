import { expect, test } from "./support/fixtures";

test.describe("Home", () => {
  test("should show the database, queue and native engine as healthy", async ({ page }) => {
    const consoleErrors: string[] = [];
    page.on("console", (msg) => {
      if (msg.type() === "error") consoleErrors.push(msg.text());
    });
    await page.goto("/");
    await expect(page.getByRole("heading", { name: "MergeScope", level: 1 })).toBeVisible();
    await expect(page.getByTestId("health-db")).toHaveText("healthy");
    await expect(page.getByTestId("health-queue")).toHaveText("healthy");
    await expect(page.getByTestId("health-native")).toHaveText("healthy");
    await expect(page.getByTestId("health-status")).toContainText("mergescope.db");
    await page.screenshot({ path: test.info().outputPath("home.png"), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
});
