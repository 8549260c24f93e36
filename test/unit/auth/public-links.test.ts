// Public view links: made by the view's owner (or an admin) for a view that
// shows an experiment; the link reads that experiment's charts only (an
// analysis of another experiment is refused too); revoked or expired links open
// nothing.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createCaller } from "../../../server/api/root";
import { createContext } from "../../../server/api/trpc";
import { db } from "../../../server/db/client";
import { SHARE_HEADER } from "../../../server/services/auth/principal";
import { createUser, signInCookie } from "../../support/auth";
import { freshDataDir } from "../scores/helpers";

const env = freshDataDir("ms-public-links-");
after(() => env.cleanup());

const as = async (h: Headers) => createCaller(await createContext({ headers: h }));
let owner: Awaited<ReturnType<typeof as>>;
let other: Awaited<ReturnType<typeof as>>;
let admin: Awaited<ReturnType<typeof as>>;
let expA = "";
let expB = "";
let analysisB = "";

before(async () => {
  const client = await db();
  expA = (await client.experiment.create({ data: { name: "A", language: "ben" } })).id;
  expB = (await client.experiment.create({ data: { name: "B", language: "tel" } })).id;
  analysisB = (await client.analysis.create({ data: { experimentId: expB, method: "ties", modelPaths: "[]", densities: "[]", totals: "{}" } })).id;
  const users = await Promise.all((["researcher", "researcher", "admin"] as const).map((r) => createUser(r)));
  const callers = await Promise.all(users.map(async (u) => as(new Headers({ cookie: await signInCookie(u.email) }))));
  owner = callers[0]!;
  other = callers[1]!;
  admin = callers[2]!;
});

const shareCaller = (path: string) => as(new Headers({ [SHARE_HEADER]: path.split("/").pop()! }));

describe("public view links", () => {
  it("should be made by the view's owner or an admin, for a view of an experiment", async () => {
    const view = await owner.views.create({ path: "/analysis", query: `experiment=${expA}` });
    await assert.rejects(other.views.publicLinks.create({ viewId: view.id }), /only the person who saved this view \(or an admin\)/);
    const byAdmin = await admin.views.publicLinks.create({ viewId: view.id, expiresInDays: 7 });
    assert.match(byAdmin.path, /^\/p\/[A-Za-z0-9_-]{43}$/);
    const noExperiment = await owner.views.create({ path: "/analysis", query: "" });
    await assert.rejects(owner.views.publicLinks.create({ viewId: noExperiment.id }), /shows no experiment/);
    // Another researcher saving the same state gets their own short link, which they own.
    const theirs = await other.views.create({ path: "/analysis", query: `experiment=${expA}` });
    assert.notEqual(theirs.id, view.id);
    assert.ok(await other.views.publicLinks.create({ viewId: theirs.id }));
  });

  it("should read only its own experiment's charts, and stop when revoked or expired", async () => {
    const view = await owner.views.create({ path: "/analysis", query: `experiment=${expA}&split=dev` });
    const link = await owner.views.publicLinks.create({ viewId: view.id });
    const pub = await shareCaller(link.path);
    assert.equal((await pub.charts.sweep({ experimentId: expA })).experiment.id, expA);
    await assert.rejects(pub.charts.sweep({ experimentId: expB }), /public link shows its own view only/);
    // The analysis belongs to B: refused even when the request names A.
    await assert.rejects(pub.charts.heatmap({ analysisId: analysisB, experimentId: expA }), /not part of this view's experiment/);
    await assert.rejects(pub.experiments.get({ id: expA }), /public link shows its own view only/);
    const listed = await owner.views.publicLinks.list({ viewId: view.id });
    assert.equal(listed.length, 1);
    await assert.rejects(other.views.publicLinks.revoke({ id: listed[0]!.id }), /no active public link/);
    await owner.views.publicLinks.revoke({ id: listed[0]!.id });
    await assert.rejects((await shareCaller(link.path)).charts.sweep({ experimentId: expA }), /revoked or has expired/);

    const expiring = await owner.views.publicLinks.create({ viewId: view.id, expiresInDays: 1 });
    await (await db()).publicLink.updateMany({ where: { viewId: view.id, revokedAt: null }, data: { expiresAt: new Date(Date.now() - 1) } });
    await assert.rejects((await shareCaller(expiring.path)).charts.sweep({ experimentId: expA }), /revoked or has expired/);
    await assert.rejects((await shareCaller("/p/" + "A".repeat(43))).charts.sweep({ experimentId: expA }), /revoked or has expired/);
  });
});
