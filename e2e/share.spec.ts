// Public view links: a researcher makes one from the analysis view; without an
// account it shows that view's charts and tables, and the same token reaches
// nothing else of the API; once revoked it opens nothing.
import { e2eBaseURL } from "./support/accounts";
import { trpcQuery } from "./support/api";
import { expect, test } from "./support/fixtures";

test.describe("Public view links", () => {
  test.use({ signedInAs: "researcher" });

  test("should show one view to anyone with the link, and nothing else", async ({ page, request, browser }) => {
    const experiments = await trpcQuery<{ id: string }[]>(request, "experiments.list", {});
    const experimentId = experiments[0]!.id;
    await page.goto(`/analysis?experiment=${experimentId}`);
    await expect(page.getByTestId("analysis-view")).toBeVisible();
    page.once("dialog", (d) => void d.accept());
    await page.getByTestId("public-link").click();
    const url = await page.getByTestId("public-url").inputValue();
    expect(url).toMatch(new RegExp(`^${e2eBaseURL()}/p/[A-Za-z0-9_-]{43}$`));
    const token = url.split("/").pop()!;

    const outsider = await browser.newContext({ baseURL: e2eBaseURL(), storageState: { cookies: [], origins: [] } });
    const p = await outsider.newPage();
    await p.goto(url.replace(e2eBaseURL(), ""));
    await expect(p.getByTestId("public-banner")).toBeVisible();
    await expect(p.getByTestId("analysis-view")).toHaveAttribute("data-experiment", experimentId);
    await expect(p.getByTestId("share-bar")).toHaveCount(0);
    await expect(p.getByTestId("account-menu")).toHaveCount(0);

    // The token reaches this experiment's charts and nothing else.
    const share = { "x-mergescope-share": token };
    expect((await outsider.request.get(`/api/trpc/charts.sweep?input=${encodeURIComponent(JSON.stringify({ json: { experimentId } }))}`, { headers: share })).status()).toBe(200);
    for (const path of ["experiments.list", "jobs.list", "models.list", "scores.list", "account.me", "views.publicLinks.list"])
      expect((await outsider.request.get(`/api/trpc/${path}`, { headers: share })).status(), path).toBe(403);
    expect((await outsider.request.get(`/api/trpc/charts.sweep?input=${encodeURIComponent(JSON.stringify({ json: { experimentId: "another" } }))}`, { headers: share })).status()).toBe(403);
    expect((await outsider.request.post("/api/trpc/jobs.enqueue", { data: { json: { type: "merge", payload: {} } }, headers: { ...share, origin: e2eBaseURL() } })).status()).toBe(403);

    // Revoked from the Account page: the link opens nothing.
    await page.goto("/account");
    const revoke = page.getByTestId("public-links-panel").getByRole("button", { name: /Revoke the public link/ });
    await expect(revoke.first()).toBeVisible();
    // Newest first: this test's link.
    const before = await revoke.count();
    await revoke.first().click();
    await expect(revoke).toHaveCount(before - 1);
    await p.goto(url.replace(e2eBaseURL(), ""));
    await expect(p.getByTestId("public-link-invalid")).toBeVisible();
    await outsider.close();
  });
});
