// The role matrix over HTTP against the running server: every procedure in the
// table (which test/unit/auth/role-matrix.test.ts proves is exactly the
// router's) called as anonymous, viewer, researcher, admin and with a public
// view link. And the remote-code-execution request, refused.
import { request as playwrightRequest, type APIRequestContext } from "@playwright/test";
import { DENIAL_CODES, EXPECTED_ACCESS, mayCall, type Caller } from "../test/support/role-matrix";
import { e2eBaseURL } from "./support/accounts";
import { trpcMutation, trpcQuery } from "./support/api";
import { expect, test } from "./support/fixtures";

async function call(ctx: APIRequestContext, path: string, input: unknown, headers: Record<string, string> = {}): Promise<{ status: number; appCode: string | null }> {
  const { type } = EXPECTED_ACCESS[path]!;
  const res =
    type === "query"
      ? await ctx.get(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`, { headers })
      : await ctx.post(`/api/trpc/${path}`, { data: { json: input }, headers: { origin: e2eBaseURL(), ...headers } });
  const body = (await res.json().catch(() => null)) as { error?: { json?: { data?: { appCode?: string | null } } } } | null;
  return { status: res.status(), appCode: body?.error?.json?.data?.appCode ?? null };
}

test.describe("Roles", () => {
  test("should allow and refuse every procedure as the role matrix says, over HTTP", async ({ accounts, request }) => {
    test.setTimeout(300_000);
    const experiments = await trpcQuery<{ id: string }[]>(request, "experiments.list", {});
    const experimentId = experiments[0]?.id;
    expect(experimentId, "the demo experiment").toBeTruthy();
    // A public link to a view of that experiment, made by its owner.
    const researcher = await playwrightRequest.newContext({ baseURL: e2eBaseURL(), storageState: accounts.researcher.stateFile });
    const view = await trpcMutation<{ id: string }>(researcher, "views.create", { path: "/analysis", query: `experiment=${experimentId}` });
    const link = await trpcMutation<{ path: string }>(researcher, "views.publicLinks.create", { viewId: view.id });
    const shareToken = link.path.split("/").pop()!;

    const contexts: Record<Exclude<Caller, "public-link">, APIRequestContext> = {
      anonymous: await playwrightRequest.newContext({ baseURL: e2eBaseURL(), storageState: { cookies: [], origins: [] } }),
      viewer: await playwrightRequest.newContext({ baseURL: e2eBaseURL(), storageState: accounts.viewer.stateFile }),
      researcher,
      admin: await playwrightRequest.newContext({ baseURL: e2eBaseURL(), storageState: accounts.admin.stateFile }),
    };
    const wrong: string[] = [];
    for (const [path, { access }] of Object.entries(EXPECTED_ACCESS)) {
      for (const caller of ["anonymous", "viewer", "researcher", "admin", "public-link"] as Caller[]) {
        const r =
          caller === "public-link"
            ? await call(contexts.anonymous, path, { experimentId }, { "x-mergescope-share": shareToken })
            : await call(contexts[caller], path, { experimentId });
        const denied = (r.status === 401 || r.status === 403) && (DENIAL_CODES as readonly string[]).includes(r.appCode ?? "");
        if (denied !== !mayCall(access, caller)) wrong.push(`${path} as ${caller}: HTTP ${r.status} ${r.appCode ?? ""}, expected ${mayCall(access, caller) ? "allowed" : "refused"}`);
      }
      if (access === "shared-chart") {
        const r = await call(contexts.anonymous, path, { experimentId: "another-experiment" }, { "x-mergescope-share": shareToken });
        if (r.status !== 403) wrong.push(`${path} through the public link for another experiment: HTTP ${r.status}`);
      }
    }
    expect(wrong).toEqual([]);
    for (const c of Object.values(contexts)) await c.dispose();
  });

  test("should refuse the issue's evaluate job that carried a command, and run nothing", async ({ request }) => {
    const marker = `/tmp/mergescope-proof-${Date.now()}`;
    const res = await request.post("/api/trpc/jobs.enqueue", {
      data: { json: { type: "evaluate", payload: { modelPath: "/tmp", tasks: ["x"], commandTemplate: `/usr/bin/touch ${marker}-{tasks} {model} {out}`, timeoutSeconds: 30 } } },
      headers: { origin: e2eBaseURL() },
    });
    expect(res.status()).toBe(400);
    expect(await res.text()).toContain("an evaluate job cannot carry a command");
    const jobs = await trpcQuery<{ type: string; label: string }[]>(request, "jobs.list", { type: ["evaluate"] });
    expect(jobs.filter((j) => j.label.includes("proof"))).toEqual([]);
  });
});
