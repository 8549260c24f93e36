// The role matrix, generated from the router: every procedure of appRouter is
// called as anonymous, viewer, researcher, admin and through a public view
// link, and must be allowed or refused as test/support/role-matrix.ts says. A
// procedure missing from that table, or declaring another role, fails here.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TRPCError } from "@trpc/server";
import { appRouter, createCaller } from "../../../server/api/root";
import { createCallerFactory, createContext, createTRPCRouter, viewerProcedure } from "../../../server/api/trpc";
import { db } from "../../../server/db/client";
import { AppError } from "../../../server/errors";
import { SHARE_HEADER } from "../../../server/services/auth/principal";
import { createPublicLink } from "../../../server/services/views/public-links";
import { createView } from "../../../server/services/views/store";
import { z } from "zod";
import { createUser, signInCookie } from "../../support/auth";
import { DENIAL_CODES, EXPECTED_ACCESS, mayCall, type Caller } from "../../support/role-matrix";
import { freshDataDir } from "../scores/helpers";

const env = freshDataDir("ms-roles-");
after(() => env.cleanup());

type Proc = { _def: { type: string; meta?: { access?: string } } };
const procedures = (appRouter as unknown as { _def: { procedures: Record<string, Proc> } })._def.procedures;

let experimentId = "";
let otherExperimentId = "";
const headers = new Map<Caller, Headers>();

before(async () => {
  const client = await db();
  experimentId = (await client.experiment.create({ data: { name: "shared", language: "ben" } })).id;
  otherExperimentId = (await client.experiment.create({ data: { name: "private", language: "tel" } })).id;
  headers.set("anonymous", new Headers());
  for (const role of ["viewer", "researcher", "admin"] as const) {
    const { email } = await createUser(role);
    headers.set(role, new Headers({ cookie: await signInCookie(email) }));
  }
  const owner = await client.user.findFirstOrThrow({ where: { role: "researcher" } });
  const view = await createView({ path: "/analysis", query: `experiment=${experimentId}` }, owner.id);
  const link = await createPublicLink({ id: owner.id, role: "researcher" }, { viewId: view.id });
  headers.set("public-link", new Headers({ [SHARE_HEADER]: link.path.split("/").pop()! }));
});

function isDenial(err: unknown): boolean {
  return err instanceof TRPCError && err.cause instanceof AppError && (DENIAL_CODES as readonly string[]).includes(err.cause.code);
}

async function attempt(caller: Caller, path: string, input: unknown): Promise<{ denied: boolean; detail: string }> {
  const api = createCaller(await createContext({ headers: headers.get(caller)! })) as unknown as Record<string, unknown>;
  const fn = path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], api) as (i: unknown) => Promise<unknown>;
  try {
    await fn(input);
    return { denied: false, detail: "ok" };
  } catch (err) {
    return { denied: isDenial(err), detail: err instanceof Error ? `${(err as TRPCError).code ?? ""} ${err.message}` : String(err) };
  }
}

describe("role matrix", () => {
  it("should list every procedure of the router, with the role it declares", () => {
    const inRouter = Object.keys(procedures).sort();
    const inTable = Object.keys(EXPECTED_ACCESS).sort();
    assert.deepEqual(
      inRouter.filter((p) => !inTable.includes(p)),
      [],
      "procedures without a row in test/support/role-matrix.ts: add one (and choose their role on purpose)",
    );
    assert.deepEqual(inTable.filter((p) => !inRouter.includes(p)), [], "rows for procedures that no longer exist");
    for (const [path, proc] of Object.entries(procedures)) {
      assert.equal(proc._def.meta?.access, EXPECTED_ACCESS[path]!.access, `${path} declares ${proc._def.meta?.access ?? "no role"}`);
      assert.equal(proc._def.type, EXPECTED_ACCESS[path]!.type, `${path} is a ${proc._def.type}`);
    }
  });

  const callers: Caller[] = ["anonymous", "viewer", "researcher", "admin", "public-link"];
  for (const path of Object.keys(EXPECTED_ACCESS)) {
    it(`${path}: ${callers.map((c) => `${c} ${mayCall(EXPECTED_ACCESS[path]!.access, c) ? "allowed" : "refused"}`).join(", ")}`, async () => {
      const { access } = EXPECTED_ACCESS[path]!;
      for (const caller of callers) {
        // The experiment a public link shows: the only experimentId it may ask about.
        const r = await attempt(caller, path, { experimentId });
        assert.equal(r.denied, !mayCall(access, caller), `${path} as ${caller}: ${r.detail}`);
      }
      if (access === "shared-chart") {
        const r = await attempt("public-link", path, { experimentId: otherExperimentId });
        assert.equal(r.denied, true, `${path} through a public link, another experiment: ${r.detail}`);
      }
    });
  }

  it("should refuse a procedure whose role was erased (default deny)", async () => {
    const router = createTRPCRouter({ leak: viewerProcedure.meta({ access: undefined }).output(z.string()).query(() => "secret") });
    const caller = createCallerFactory(router)(await createContext({ headers: headers.get("admin")! }));
    await assert.rejects(caller.leak(), (err: unknown) => isDenial(err) && /declares no role/.test((err as Error).message));
  });
});
