// The bench refuses to start a run the disk cannot hold (the 7B family alone is ~40 GB).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { checkDiskSpace, modelBytes } from "../../../bench/family";
import { BENCH_PRESETS } from "../../../bench/presets";

describe("bench disk-space check", () => {
  it("the 7b preset is the Llama-2-7B shape (6.74B parameters, 13.5 GB per bf16 model)", () => {
    assert.deepEqual(BENCH_PRESETS["7b"], { hidden: 4096, layers: 32, intermediate: 11008, vocab: 32000, heads: 32, kvHeads: 32 });
    assert.equal(modelBytes("7b"), 6_738_415_616 * 2);
  });

  it("refuses to generate when the family plus one output does not fit, naming the other cached families", () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), "ms-bench-family-"));
    try {
      mkdirSync(path.join(cache, "llama-1.1b-bf16"));
      writeFileSync(path.join(cache, "llama-1.1b-bf16", "x"), "12345");
      const need = 4 * modelBytes("7b") + 2e9;
      assert.throws(
        () => checkDiskSpace(cache, "7b", need - 1),
        (e: Error) =>
          /not enough disk space for the 7b bench/.test(e.message) &&
          /needs 55\.9 GB \(3 generated models \+ one merged output of 13\.5 GB/.test(e.message) &&
          e.message.includes(path.join(cache, "llama-1.1b-bf16")) &&
          /MERGESCOPE_BENCH_CACHE/.test(e.message),
      );
      assert.doesNotThrow(() => checkDiskSpace(cache, "7b", need));
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("once the family is generated, only one merged output (plus spare) must fit", () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), "ms-bench-family-"));
    try {
      mkdirSync(path.join(cache, "llama-7b-bf16"));
      writeFileSync(path.join(cache, "llama-7b-bf16", ".complete"), "");
      assert.doesNotThrow(() => checkDiskSpace(cache, "7b", modelBytes("7b") + 2e9));
      assert.throws(() => checkDiskSpace(cache, "7b", modelBytes("7b") + 2e9 - 1), /needs 15\.5 GB \(one merged output/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
