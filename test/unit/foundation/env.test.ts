import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, it } from "node:test";
import { env, resetEnvCache } from "../../../server/env";

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  resetEnvCache();
});

describe("env", () => {
  it("defaults the data dir to ./data and the model roots to the data dir", () => {
    delete process.env.MERGESCOPE_DATA_DIR;
    delete process.env.MERGESCOPE_MODEL_ROOTS;
    resetEnvCache();
    const e = env();
    assert.equal(e.dataDir, path.resolve("data"));
    assert.equal(e.databaseFile, path.resolve("data", "mergescope.db"));
    assert.deepEqual(e.modelRoots, [path.resolve("data")]);
    assert.equal(e.PORT, 3000);
    assert.ok(e.workers >= 1);
  });

  it("honours MERGESCOPE_DATA_DIR, colon-separated model roots and MERGESCOPE_WORKERS", () => {
    process.env.MERGESCOPE_DATA_DIR = "/tmp/ms-x";
    process.env.MERGESCOPE_MODEL_ROOTS = "/models/a::/models/b";
    process.env.MERGESCOPE_WORKERS = "3";
    resetEnvCache();
    const e = env();
    assert.equal(e.databaseFile, "/tmp/ms-x/mergescope.db");
    // the output directory (default <data>/merges) is always a root: the app reads its own merges
    assert.deepEqual(e.modelRoots, ["/models/a", "/models/b", "/tmp/ms-x/merges"]);
    assert.equal(e.workers, 3);
    process.env.MERGESCOPE_OUTPUT_DIR = "/models/a/merges";
    resetEnvCache();
    assert.deepEqual(env().modelRoots, ["/models/a", "/models/b"], "an output directory inside a root adds nothing");
    delete process.env.MERGESCOPE_OUTPUT_DIR;
  });

  it("reads MERGESCOPE_MEMORY_BUDGET as a size (default 60% of RAM) and refuses one that is not", () => {
    delete process.env.MERGESCOPE_MEMORY_BUDGET;
    resetEnvCache();
    assert.equal(env().memoryBudgetBytes, Math.floor(os.totalmem() * 0.6));
    process.env.MERGESCOPE_MEMORY_BUDGET = "12GiB";
    resetEnvCache();
    assert.equal(env().memoryBudgetBytes, 12 * 2 ** 30);
    process.env.MERGESCOPE_MEMORY_BUDGET = "512MB";
    resetEnvCache();
    assert.equal(env().memoryBudgetBytes, 512e6);
    process.env.MERGESCOPE_MEMORY_BUDGET = "lots";
    resetEnvCache();
    assert.throws(() => env(), /MERGESCOPE_MEMORY_BUDGET: must be a size such as 12GB/);
  });

  it("rejects invalid values with the variable's name", () => {
    process.env.PORT = "not-a-port";
    resetEnvCache();
    assert.throws(() => env(), /PORT/);
  });
});
