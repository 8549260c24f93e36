// The e2e tests' `test`: every test runs signed in (as an admin unless it says
// `test.use({ signedInAs: "viewer" })`), with accounts that each worker seeds
// itself through the real invitation flow (support/accounts.ts).
import { test as base } from "@playwright/test";
import { createSignedInAccount, type Role } from "./accounts";

export { expect } from "@playwright/test";
export type { APIRequestContext, Locator, Page } from "@playwright/test";

type Accounts = Record<Role, { email: string; stateFile: string }>;

export const test = base.extend<{ signedInAs: Role | null }, { accounts: Accounts }>({
  accounts: [
    async ({}, use, workerInfo) => {
      const accounts = {} as Accounts;
      for (const role of ["admin", "researcher", "viewer"] as const)
        accounts[role] = await createSignedInAccount(role, `${role}-w${workerInfo.workerIndex}@e2e.test`, workerInfo.project.outputDir + `/.auth-${role}-w${workerInfo.workerIndex}.json`);
      await use(accounts);
    },
    { scope: "worker" },
  ],
  /** null: signed out. */
  signedInAs: ["admin", { option: true }],
  storageState: async ({ accounts, signedInAs }, use) => {
    await use(signedInAs ? accounts[signedInAs].stateFile : { cookies: [], origins: [] });
  },
});
