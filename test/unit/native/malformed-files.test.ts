// Every safetensors/index failure reaches JavaScript as an Error with its
// stable engine code, names the file, and leaves the process alive.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { inspectModel, runNativeMerge } from "../../../server/engine/native-merge";
import type { NativeMergeRequest } from "../../../server/engine/types";

const dir = mkdtempSync(path.join(os.tmpdir(), "ms-malformed-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A safetensors file from a header object and a data section. */
function st(header: unknown, data: Buffer = Buffer.alloc(0), rawHeader?: Buffer): Buffer {
  const json = rawHeader ?? Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

function file(name: string, bytes: Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

const f32 = (n: number) => Buffer.alloc(4 * n);
const one = { dtype: "F32", shape: [2], data_offsets: [0, 8] };

const cases: { code: string; bytes: () => Buffer }[] = [
  { code: "ST_FILE_TOO_SMALL", bytes: () => Buffer.from([1, 2, 3]) },
  { code: "ST_HEADER_TOO_LARGE", bytes: () => { const b = Buffer.alloc(16); b.writeBigUInt64LE(200_000_000n); return b; } },
  { code: "ST_HEADER_LENGTH_INVALID", bytes: () => { const b = Buffer.alloc(16); b.writeBigUInt64LE(1000n); return b; } },
  { code: "ST_HEADER_NOT_UTF8", bytes: () => st(null, Buffer.alloc(0), Buffer.from([0x7b, 0xff, 0xfe, 0x7d])) },
  { code: "ST_HEADER_START_INVALID", bytes: () => st(null, Buffer.alloc(0), Buffer.from("[]      ")) },
  { code: "ST_HEADER_JSON_INVALID", bytes: () => st(null, Buffer.alloc(0), Buffer.from('{"a": ')) },
  { code: "ST_HEADER_DUPLICATE_KEY", bytes: () => st(null, f32(4), Buffer.from('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}')) },
  { code: "ST_TENSOR_INFO_INVALID", bytes: () => st({ w: { dtype: "F32", shape: [2] } }, f32(2)) },
  { code: "ST_DTYPE_UNKNOWN", bytes: () => st({ w: { dtype: "F31", shape: [2], data_offsets: [0, 8] } }, f32(2)) },
  { code: "ST_SHAPE_OVERFLOW", bytes: () => st({ w: { dtype: "F32", shape: [4294967296, 4294967296], data_offsets: [0, 8] } }, f32(2)) },
  { code: "ST_TENSOR_SIZE_MISMATCH", bytes: () => st({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, f32(2)) },
  { code: "ST_OFFSETS_INVALID", bytes: () => st({ a: one, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, f32(3)) },
  { code: "ST_DATA_TRUNCATED", bytes: () => st({ w: one }, f32(1)) },
  { code: "ST_TRAILING_BYTES", bytes: () => st({ w: one }, f32(3)) },
  { code: "ST_METADATA_INVALID", bytes: () => st({ __metadata__: { format: 3 }, w: one }, f32(2)) },
  { code: "ST_PICKLE_FORMAT", bytes: () => Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.alloc(30)]) },
  { code: "ST_ZIP_FORMAT", bytes: () => Buffer.concat([Buffer.from("PK\x03\x04"), Buffer.alloc(30)]) },
];

describe("malformed safetensors through the Node API", () => {
  for (const c of cases) {
    it(`should reject with ${c.code} and name the file`, () => {
      const p = file(`${c.code}.safetensors`, c.bytes());
      assert.throws(
        () => inspectModel(p),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, c.code, err.message);
          assert.ok(err.message.includes(p) || err.message.includes(path.basename(p)), `message names the file: ${err.message}`);
          return true;
        },
      );
    });
  }

  it("should reject a merge whose model is malformed, asynchronously, with the code", async () => {
    const good = file("good.safetensors", st({ w: one }, f32(2)));
    const bad = file("bad.safetensors", st({ w: one }, f32(3)));
    const request: NativeMergeRequest = {
      method: "ties", consensus: "sum", normalize: true, lambda: 1, computeDtype: "storage", outDtype: null,
      slack: 0, slackScope: "model", rescale: false, seed: 0, randomStream: "counter", tieOrder: "mergekit", keepIfNoOutliers: false, t: 0, filterWise: false, densities: null, basePath: good,
      models: [{ path: bad, weight: 1, density: 1, favored: false, gamma: 0.01, epsilon: 0.15 }],
      outDir: null, shardSizeBytes: 1e9, threads: 1,
    };
    await assert.rejects(runNativeMerge(request), (err: Error & { code?: string }) => err.code === "ST_TRAILING_BYTES");
    // The process is alive and the engine still works.
    const ok = await runNativeMerge({ ...request, models: [{ path: good, weight: 1, density: 1, favored: false, gamma: 0.01, epsilon: 0.15 }] });
    assert.equal(ok.tensors.length, 1);
  });

  it("should reject index.json problems with IDX_* codes", () => {
    const model = path.join(dir, "sharded");
    mkdirSync(model);
    writeFileSync(path.join(model, "model.safetensors.index.json"), JSON.stringify({ weight_map: { w: "../escape.safetensors" } }));
    assert.throws(() => inspectModel(model), (e: Error & { code?: string }) => e.code === "IDX_SHARD_PATH_INVALID");
    writeFileSync(path.join(model, "model.safetensors.index.json"), JSON.stringify({ weight_map: { w: "model-00001-of-00001.safetensors" } }));
    assert.throws(() => inspectModel(model), (e: Error & { code?: string }) => e.code === "IDX_SHARD_MISSING");
    writeFileSync(path.join(model, "model.safetensors.index.json"), "{not json");
    assert.throws(() => inspectModel(model), (e: Error & { code?: string }) => e.code === "IDX_JSON_INVALID");
  });

  it("should report a directory without weights as MODEL_NOT_FOUND", () => {
    const empty = path.join(dir, "empty");
    mkdirSync(empty);
    assert.throws(() => inspectModel(empty), (e: Error & { code?: string }) => e.code === "MODEL_NOT_FOUND");
  });

  it("should validate arguments in TypeScript before calling the addon", async () => {
    await assert.rejects(
      runNativeMerge({ method: "ties" } as unknown as NativeMergeRequest),
      /expected sum\|count for consensus, got undefined/,
    );
  });
});
