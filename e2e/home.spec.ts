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

  test("should lead a newcomer from the first page into an experiment's charts", async ({ page }) => {
    test.setTimeout(300_000);
    await page.goto("/");
    const demoCard = page.getByTestId("experiment-card").filter({ hasText: "Demo: synthetic CT series" });
    await expect(demoCard).toHaveCount(1);
    // The demo's analyses may still be running on a fresh server: the card fills in as they finish.
    await expect(demoCard.getByTestId("discard-thumbnail")).toBeVisible({ timeout: 240_000 });
    await expect(demoCard.getByTestId("discard-thumbnail")).toHaveAttribute("aria-label", /Figure 4 at k=0\.2\/1: .*TIES \d+\.\d %, TIES-SV \d+\.\d %/);
    await expect(demoCard.getByTestId("discard-thumbnail").locator(".recharts-line")).toHaveCount(2);
    const id = await demoCard.getAttribute("data-experiment-id");
    await page.getByTestId("open-demo").click();
    await expect(page).toHaveURL(`/analysis?experiment=${id}`);
    await expect(page.getByTestId("chart-fig4")).toBeVisible();
  });
});
