// Saved views behind short links: ids, round trip, idempotence, and refusal of
// anything that is not one of the chart pages (no open redirect).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { AppError } from "../../../server/errors";
import { createView, getView, newViewId, viewUrl } from "../../../server/services/views/store";
import { db } from "../../../server/db/client";
import { createUser } from "../../support/auth";
import { freshDataDir } from "./helpers";

const env = freshDataDir("ms-charts-views-");
after(() => env.cleanup());

describe("saved views", () => {
  it("should draw short base62 ids", () => {
    const ids = new Set(Array.from({ length: 2000 }, () => newViewId()));
    assert.equal(ids.size, 2000);
    for (const id of ids) assert.match(id, /^[0-9A-Za-z]{8}$/);
  });

  it("should store a view and give back the same URL", async () => {
    const query = "experiment=abc&sft=0.2&ct=1&tables=fig3%2Cfig4&task=belebele_tel_Telu";
    const v = await createView({ path: "/analysis", query: `?${query}` });
    assert.match(v.id, /^[0-9A-Za-z]{8}$/);
    assert.equal(v.url, `/analysis?${query}`);
    const back = await getView(v.id);
    assert.equal(back.url, v.url);
    assert.deepEqual(back.state, { path: "/analysis", query });
    // Saving the same state again returns the same link.
    assert.equal((await createView({ path: "/analysis", query })).id, v.id);
    assert.notEqual((await createView({ path: "/analysis/compare", query })).id, v.id);
  });

  it("should say who saved a view", async () => {
    const { email } = await createUser("viewer");
    const user = await (await db()).user.findUniqueOrThrow({ where: { email } });
    const v = await createView({ path: "/analysis", query: "experiment=abc" }, user.id);
    assert.equal(v.createdBy, user.name || email);
    assert.equal((await getView(v.id)).createdBy, user.name || email);
    assert.equal((await createView({ path: "/analysis", query: "experiment=anonymous" })).createdBy, null);
  });

  it("should refuse other pages and unknown ids", async () => {
    await assert.rejects(createView({ path: "https://evil.example/" as "/analysis", query: "" }));
    await assert.rejects(createView({ path: "/jobs" as "/analysis", query: "" }));
    await assert.rejects(getView("nope!"), (e: unknown) => e instanceof AppError && e.code === "NOT_FOUND");
    await assert.rejects(getView("ZZZZZZZZ"), (e: unknown) => e instanceof AppError && e.code === "NOT_FOUND");
    assert.equal(viewUrl({ path: "/analysis", query: "" }), "/analysis");
  });
});
