import assert from "node:assert/strict";
import { mkdirSync, symlinkSync } from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { AppError } from "../../../server/errors";
import { resetEnvCache } from "../../../server/env";
import { normalizePath } from "../../../server/paths";
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

  it("should always allow the output directory, where the app writes its merges", async () => {
    const merged = path.join(env.dir, "data", "merges", "ties-ct-abc");
    mkdirSync(merged, { recursive: true });
    assert.equal(await resolveAllowedPath(merged), merged, "outside MERGESCOPE_MODEL_ROOTS, inside the output directory");
  });

  it("should store a symlink that stays inside the root as its target", async () => {
    assert.equal(await resolveAllowedPath(path.join(env.root, "link-in")), inside);
  });

  it("should refuse `..` that leaves the root, naming the allowed roots", async () => {
    await assert.rejects(resolveAllowedPath(path.join(env.root, "..", "outside", "model")), refused("PATH_NOT_ALLOWED", env.root, "MERGESCOPE_MODEL_ROOTS"));
    await assert.rejects(resolveAllowedPath(`${env.root}/../../../../etc`), refused("PATH_NOT_ALLOWED"));
  });

  it("should refuse a symlink inside the root that points outside", async () => {
    await assert.rejects(resolveAllowedPath(path.join(env.root, "link-out")), refused("PATH_NOT_ALLOWED", `resolves to "${outside}"`));
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

  it("should refuse edge whitespace and control characters instead of trimming them (the check and the open use one string)", async () => {
    for (const [p, rule] of [
      [`${inside} `, "whitespace"],
      [`${inside}\t`, "control character"],
      [`${inside}\n`, "control character"],
      [` ${inside}`, "whitespace"],
      [`${inside}\u00a0`, "whitespace"],
      [`${inside}\u0000`, "NUL"],
      [`${env.root}/${"a".repeat(256)}`, "longer than 255 bytes"],
      [`${env.root}/\ud800`, "not valid Unicode"],
    ] as const) {
      await assert.rejects(resolveAllowedPath(p), refused("BAD_INPUT", JSON.stringify(p).slice(1, 40), rule));
    }
  });

  it("should normalize once: `.`, `..`, `//` and a trailing slash collapse; relative paths only against a given folder", () => {
    assert.equal(normalizePath("/a//b/./c/../d/"), "/a/b/d");
    assert.equal(normalizePath("x/../y", "p", { relativeTo: "/base" }), "/base/y");
    assert.throws(() => normalizePath("x"), /is not an absolute path/);
    assert.throws(() => normalizePath("x ", "p", { relativeTo: "/base" }), /whitespace/);
    assert.throws(() => normalizePath("x", "p", { relativeTo: "/base\n" }), /folder of p "\/base\\n" contains a control character/);
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
