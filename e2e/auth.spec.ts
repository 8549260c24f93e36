// Signing in and out, coming back to a shared link after signing in, what a
// viewer sees, and the lock after too many failed sign-ins.
import { acceptLink, e2eBaseURL, userAddLink } from "./support/accounts";
import { trpcMutation, trpcQuery } from "./support/api";
import { expect, test } from "./support/fixtures";

test.describe("Sign-in", () => {
  test.describe("signed out", () => {
    test.use({ signedInAs: null });

    test("should send a signed-out visitor of a short link to the sign-in page and back to the view", async ({ page, accounts, browser }) => {
      const admin = await browser.newContext({ baseURL: e2eBaseURL(), storageState: accounts.admin.stateFile });
      const experiments = await trpcQuery<{ id: string }[]>(admin.request, "experiments.list", {});
      const view = await trpcMutation<{ id: string; url: string }>(admin.request, "views.create", { path: "/analysis", query: `experiment=${experiments[0]!.id}&split=dev` });
      await admin.close();

      await page.goto(`/v/${view.id}`);
      await expect(page).toHaveURL(new RegExp(`/login\\?next=%2Fv%2F${view.id}$`));
      await page.getByLabel("Email").fill(accounts.researcher.email);
      await page.getByLabel("Password").fill("e2e password 1234");
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page).toHaveURL(new RegExp(`/analysis\\?experiment=${experiments[0]!.id}&split=dev$`));
      await expect(page.getByTestId("analysis-view")).toBeVisible();
    });

    test("should refuse the API to a signed-out visitor", async ({ request }) => {
      const res = await request.get("/api/trpc/experiments.list");
      expect(res.status()).toBe(401);
      expect(await res.text()).toContain("sign in first");
    });

    test("should lock an account after too many failed sign-ins", async ({ page, request }) => {
      const email = `locked-${Date.now()}@e2e.test`;
      await acceptLink(request, userAddLink([email, "--role", "viewer"]), "Locked Out", null);
      await page.goto("/login");
      await page.getByLabel("Email").fill(email);
      for (let i = 0; i < 5; i++) {
        await page.getByLabel("Password").fill(`wrong password ${i}`);
        await page.getByRole("button", { name: "Sign in" }).click();
        await expect(page.getByTestId("signin-error")).toHaveText("wrong email or password");
        await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
      }
      await page.getByLabel("Password").fill("e2e password 1234");
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page.getByTestId("signin-error")).toContainText(`too many failed sign-ins for ${email}`);
      await expect(page).toHaveURL(/\/login$/);
    });
  });

  test.describe("as a viewer", () => {
    // Its own sign-in: signing out ends that session only, not the worker's shared one.
    test.use({ signedInAs: null });

    test("should read the pages but not the admin page, and sign out from the account menu", async ({ page, accounts }) => {
      await page.goto("/experiments");
      await expect(page).toHaveURL(/\/login\?next=%2Fexperiments$/);
      await page.getByLabel("Email").fill(accounts.viewer.email);
      await page.getByLabel("Password").fill("e2e password 1234");
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page).toHaveURL(/\/experiments$/);
      await expect(page.getByTestId("account-menu")).toContainText("viewer");
      await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
      await page.goto("/admin");
      await expect(page.getByRole("main").getByRole("alert")).toContainText("The Admin page is for admins");
      await page.getByTestId("account-menu").locator("summary").click();
      await page.getByRole("button", { name: "Sign out" }).click();
      await expect(page).toHaveURL(/\/login$/);
      await page.goto("/jobs");
      await expect(page).toHaveURL(/\/login\?next=%2Fjobs$/);
    });
  });
});

test.describe("Account", () => {
  test.use({ signedInAs: "researcher" });

  test("should create a personal API token shown once, use it, and revoke it", async ({ page, playwright }) => {
    await page.goto("/account");
    await expect(page.getByTestId("my-role")).toContainText("researcher");
    await page.getByLabel("Name").fill("e2e cli");
    await page.getByRole("button", { name: "Create token" }).click();
    const token = (await page.getByTestId("new-token").textContent())!.trim();
    expect(token).toMatch(/^msk_[A-Za-z]{64}$/);
    const api = await playwright.request.newContext({ baseURL: e2eBaseURL(), storageState: { cookies: [], origins: [] }, extraHTTPHeaders: { authorization: `Bearer ${token}` } });
    expect((await api.get("/api/trpc/jobs.list")).status()).toBe(200);
    await page.getByRole("button", { name: "Revoke token e2e cli" }).click();
    await expect(page.getByRole("button", { name: "Revoke token e2e cli" })).toHaveCount(0);
    expect((await api.get("/api/trpc/jobs.list")).status()).toBe(401);
    await api.dispose();
  });
});

test.describe("Admin", () => {
  test("should invite a researcher and manage evaluation templates", async ({ page, browser }) => {
    await page.goto("/admin");
    await page.getByLabel("Email (optional)").fill(`invited-${Date.now()}@e2e.test`);
    await page.getByRole("button", { name: "Make sign-in link" }).click();
    const link = (await page.getByTestId("invite-link").textContent())!.trim();
    expect(link).toMatch(/\/setup\?token=[A-Za-z0-9_-]{43}$/);
    const invited = await browser.newContext({ baseURL: e2eBaseURL(), storageState: { cookies: [], origins: [] } });
    const p2 = await invited.newPage();
    await p2.goto(link.replace(/^https?:\/\/[^/]+/, ""));
    await expect(p2.getByRole("heading", { name: "Create your account" })).toBeVisible();
    await expect(p2.getByText("You are invited as researcher")).toBeVisible();
    await invited.close();

    await page.getByLabel("Template name").fill("lab lm-eval");
    await page.getByRole("textbox", { name: "Command" }).fill("lm_eval --model hf --model_args pretrained={model} --tasks {tasks} --output_path {out}");
    await page.getByRole("button", { name: "Add template" }).click();
    await expect(page.getByTestId("eval-template-row").filter({ hasText: "lab lm-eval" })).toBeVisible();
    await page.goto("/scores");
    await expect(page.getByLabel("Evaluation template")).toContainText("lab lm-eval");
  });
});
