import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";

function cli(...args: string[]) {
  return spawnSync(process.execPath, ["bin/mergescope.mjs", ...args], { encoding: "utf8" });
}

describe("mergescope CLI", () => {
  it("prints help listing its commands", () => {
    const r = cli("--help");
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Usage: mergescope <command>/);
    assert.match(r.stdout, /info\s+Show the native engine/);
  });

  it("reports the engine's capabilities as JSON", () => {
    const r = cli("info", "--json");
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { version: string; methods: string[] };
    assert.ok(info.methods.includes("ties_sv"));
  });

  it("exits 2 with a hint on an unknown command or option", () => {
    const r = cli("frobnicate");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
    const r2 = cli("info", "--bogus");
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /Usage: mergescope info/);
  });
});
