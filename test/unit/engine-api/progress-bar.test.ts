import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatInspect } from "@/server/cli/commands/inspect";
import { createProgressReporter, formatBytes, progressFraction, progressLine } from "@/server/cli/progress-bar";
import type { NativeProgress } from "@/server/engine/types";

const p = (over: Partial<NativeProgress>): NativeProgress => ({
  phase: "merge",
  tensorsDone: 1,
  tensorsTotal: 4,
  bytesDone: 500e6,
  bytesTotal: 2e9,
  tensor: "model.layers.0.mlp.down_proj.weight",
  ...over,
});

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, out: { isTTY, columns: 120, write: (s: string) => chunks.push(s) } };
}

describe("progress bar", () => {
  it("formats a line from bytes, or from tensors when bytes are unknown", () => {
    assert.equal(progressFraction(p({})), 0.25);
    assert.equal(progressFraction(p({ bytesDone: 1.5e9 })), 0.75);
    assert.equal(progressFraction(p({ bytesTotal: 0 })), 0.25);
    assert.equal(progressFraction(p({ bytesDone: 0, tensorsDone: 3 })), 0.75, "bytes not counted: tensors");
    assert.equal(progressFraction(p({ bytesTotal: 0, tensorsTotal: 0 })), 0);
    assert.equal(progressLine(p({}), 8), "[##------]  25%  merging 1/4 tensors  500 MB/2.0 GB");
    assert.equal(formatBytes(999), "999 B");
    assert.equal(formatBytes(12_345_678_901), "12.3 GB");
  });

  it("redraws one line on a terminal, at most every tick", () => {
    let now = 0;
    const { chunks, out } = sink(true);
    const bar = createProgressReporter(out, { now: () => now, tickMs: 100 });
    bar.update(p({}));
    now = 50;
    bar.update(p({ tensorsDone: 2 })); // throttled
    now = 150;
    bar.update(p({ tensorsDone: 3 }));
    bar.done();
    assert.equal(chunks.length, 3);
    assert.ok(chunks[0]!.startsWith("\r\x1b[2K[") && chunks[0]!.includes("model.layers.0.mlp.down_proj.weight"));
    assert.match(chunks[1]!, /3\/4 tensors/);
    assert.equal(chunks[2], "\r\x1b[2K");
  });

  it("writes plain lines elsewhere: on every phase change, otherwise every few seconds", () => {
    let now = 0;
    const { chunks, out } = sink(false);
    const bar = createProgressReporter(out, { now: () => now, plainEveryMs: 5000 });
    bar.update(p({ phase: "plan" }));
    bar.update(p({ phase: "merge" })); // phase change: printed at once
    now = 1000;
    bar.update(p({ tensorsDone: 2 })); // too soon
    now = 6000;
    bar.update(p({ tensorsDone: 3 }));
    bar.done();
    assert.equal(chunks.length, 3);
    assert.ok(chunks.every((c) => c.endsWith("\n") && !c.includes("\r")));
    assert.match(chunks[0]!, /planning/);
    assert.match(chunks[2]!, /merging 3\/4 tensors/);
  });
});

describe("inspect formatting", () => {
  it("summarises shards, parameters and dtypes, then lists tensors", () => {
    const lines = formatInspect({
      path: "/m/ct",
      shards: ["/m/ct/model-00001-of-00002.safetensors", "/m/ct/model-00002-of-00002.safetensors"],
      parameterCount: 1_500_000_000,
      totalBytes: 3e9,
      tensors: [
        { name: "model.embed_tokens.weight", dtype: "BF16", shape: [32000, 4096] },
        { name: "model.norm.weight", dtype: "F32", shape: [4096] },
      ],
    });
    assert.equal(lines[0], "path:       /m/ct");
    assert.equal(lines[1], "shards:     2 (model-00001-of-00002.safetensors, model-00002-of-00002.safetensors)");
    assert.equal(lines[2], "parameters: 1,500,000,000 (1.50 B)");
    assert.equal(lines[3], "size:       3.0 GB");
    assert.equal(lines[4], "dtypes:     BF16 1 tensor (131,072,000 (131.1 M) params), F32 1 tensor (4,096 params)");
    assert.match(lines.at(-1)!, /^model\.norm\.weight\s+F32\s+\[4096\]$/);
  });
});
