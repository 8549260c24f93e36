import assert from "node:assert/strict";
import { mkdirSync, symlinkSync } from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { AppError } from "../../../server/errors";
import { resetEnvCache } from "../../../server/env";
import { isInside, resolveAllowedPath } from "../../../server/services/models/roots";
import { freshModelEnv } from "./helpers";

const env = freshModelEnv("ms-paths-");
after(() => env.cleanup());

const inside = path.join(env.root, "family", "base");
const outside = path.join(env.dir, "outside", "model");
const sibling = path.join(env.dir, "models-evil", "model");
for (const d of [inside, outside, sibling]) mkdirSync(d, { recursive: true });
symlinkSync(outside, path.join(env.root, "link-out"));
symlinkSync(inside, path.join(env.root, "link-in"));

function refused(code: string, ...fragments: string[]) {
  return (err: unknown) => {
    assert.ok(err instanceof AppError, `expected AppError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const f of fragments) assert.ok(err.message.includes(f), `message '${err.message}' should mention '${f}'`);
    return true;
  };
}

describe("model path containment", () => {
  it("should accept a directory inside an allowed root and return its realpath", async () => {
    assert.equal(await resolveAllowedPath(inside), inside);
    assert.equal(await resolveAllowedPath(`${inside}/`), inside);
    assert.equal(await resolveAllowedPath(env.root), env.root, "the root itself is inside");
    assert.equal(await resolveAllowedPath(path.join(env.root, "family", "..", "family", "base")), inside);
  });

  it("should store a symlink that stays inside the root as its target", async () => {
    assert.equal(await resolveAllowedPath(path.join(env.root, "link-in")), inside);
  });

  it("should refuse `..` that leaves the root, naming the allowed roots", async () => {
    await assert.rejects(resolveAllowedPath(path.join(env.root, "..", "outside", "model")), refused("PATH_NOT_ALLOWED", env.root, "MERGESCOPE_MODEL_ROOTS"));
    await assert.rejects(resolveAllowedPath(`${env.root}/../../../../etc`), refused("PATH_NOT_ALLOWED"));
  });

  it("should refuse a symlink inside the root that points outside", async () => {
    await assert.rejects(resolveAllowedPath(path.join(env.root, "link-out")), refused("PATH_NOT_ALLOWED", `resolves to ${outside}`));
  });

  it("should refuse a sibling directory that shares the root's prefix", async () => {
    assert.ok(sibling.startsWith(env.root), "the sibling shares the root's string prefix");
    await assert.rejects(resolveAllowedPath(sibling), refused("PATH_NOT_ALLOWED"));
  });

  it("should refuse missing paths outside the root without saying whether they exist", async () => {
    await assert.rejects(resolveAllowedPath(path.join(env.root, "link-out", "nope")), refused("PATH_NOT_ALLOWED"));
    await assert.rejects(resolveAllowedPath("/definitely/not/here"), refused("PATH_NOT_ALLOWED"));
    await assert.rejects(resolveAllowedPath(path.join(env.root, "nope")), refused("NOT_FOUND", "does not exist"));
  });

  it("should refuse relative and empty paths", async () => {
    await assert.rejects(resolveAllowedPath("models/family/base"), refused("BAD_INPUT", "absolute"));
    await assert.rejects(resolveAllowedPath("  "), refused("BAD_INPUT"));
  });

  it("should allow several colon-separated roots", async () => {
    process.env.MERGESCOPE_MODEL_ROOTS = `${env.root}:${path.join(env.dir, "outside")}`;
    resetEnvCache();
    try {
      assert.equal(await resolveAllowedPath(outside), outside);
      assert.equal(await resolveAllowedPath(path.join(env.root, "link-out")), outside, "a link into another root is fine");
      await assert.rejects(resolveAllowedPath(sibling), refused("PATH_NOT_ALLOWED"));
    } finally {
      process.env.MERGESCOPE_MODEL_ROOTS = env.root;
      resetEnvCache();
    }
  });

  it("should compare whole path components", () => {
    assert.equal(isInside("/data/models", "/data/models"), true);
    assert.equal(isInside("/data/models", "/data/models/a"), true);
    assert.equal(isInside("/data/models", "/data/models-evil/a"), false);
    assert.equal(isInside("/data/models", "/data/model"), false);
    assert.equal(isInside("/", "/anything"), true);
  });
});
