// First run, as a new lab admin would do it: start a fresh server, open the
// one-time link it prints, choose a password, land on the dashboard signed in;
// sign out, sign back in. The server here is our own (fresh data directory),
// started like `npm start` and read from its terminal output.
import { expect, test } from "./support/fixtures";
import { startOwnServer, type OwnServer } from "./support/own-server";

test.use({ signedInAs: null });

let server: OwnServer | undefined;

test.afterAll(() => server?.stop());

test.describe("First run", () => {
  test("should print a one-time link that makes its opener the first admin", async ({ page }) => {
    test.setTimeout(180_000);
    server = await startOwnServer("mergescope-first-run-", { MERGESCOPE_WORKERS: "0", MERGESCOPE_DEMO: "0" });
    const { port } = server;
    const output = server.output;
    await expect.poll(() => /http:\/\/localhost:\d+\/setup\?token=[A-Za-z0-9_-]{43}/.exec(output())?.[0] ?? null, { timeout: 90_000 }).not.toBeNull();
    const printed = /http:\/\/localhost:\d+\/setup\?token=[A-Za-z0-9_-]{43}/.exec(output())![0];
    expect(printed).toContain(`localhost:${port}/setup`);
    expect(output()).toContain("No account yet. Open this one-time link to become the first admin");
    const link = printed.replace("localhost", "127.0.0.1");
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${port}/api/trpc/health.status`).catch(() => null))?.status ?? 0, { timeout: 90_000 }).toBe(200);

    // Signed out, the dashboard sends you to the sign-in page, which points at the printed link.
    await page.goto(`http://127.0.0.1:${port}/experiments`);
    await expect(page).toHaveURL(/\/login\?next=%2Fexperiments$/);
    await expect(page.getByTestId("needs-first-admin")).toBeVisible();

    await page.goto(link);
    await expect(page.getByRole("heading", { name: "Set up MergeScope" })).toBeVisible();
    await page.getByLabel("Name").fill("Ada Admin");
    await page.getByLabel("Email").fill("ada@lab.example");
    await page.getByLabel("Password (at least 10 characters)").fill("first admin password");
    await page.getByLabel("Password again").fill("first admin password");
    await page.getByRole("button", { name: "Create the admin account" }).click();
    await expect(page).toHaveURL(`http://127.0.0.1:${port}/`);
    await expect(page.getByTestId("account-menu")).toContainText("Ada Admin");
    await expect(page.getByTestId("account-menu")).toContainText("admin");

    // The link worked once.
    await page.goto(link);
    await expect(page.getByTestId("setup-error")).toContainText("already used");

    // Sign out, and back in with the password.
    await page.goto(`http://127.0.0.1:${port}/models`);
    await page.getByTestId("account-menu").locator("summary").click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto(`http://127.0.0.1:${port}/models`);
    await expect(page).toHaveURL(/\/login\?next=%2Fmodels$/);
    await page.getByLabel("Email").fill("ada@lab.example");
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("signin-error")).toHaveText("wrong email or password");
    await page.getByLabel("Password").fill("first admin password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(`http://127.0.0.1:${port}/models`);
    await expect(page.getByRole("heading", { level: 1 })).toContainText("Models");
  });
});
