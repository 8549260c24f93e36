import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { roundTo } from "@/server/engine/dtype";
import { createSafetensorsWriter, writeSafetensors } from "@/server/engine/safetensors";
import { readSafetensors, typedView } from "@/test/support/safetensors";
import { GOLDEN_DIR } from "./golden-fixtures";

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), "mergescope-st-"));
}

test("round trip: f32 values, bf16-encoded values, raw f16 bits, U8, I64 bytes, scalar, empty, metadata", () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, "t.safetensors");
    const f32 = new Float32Array([1.5, -2, 3.25, 0.1, 5, 6]);
    const i64 = new Uint8Array(new BigInt64Array([-1n, 42n]).buffer);
    writeSafetensors(
      file,
      [
        { name: "w.f32", dtype: "F32", shape: [2, 3], data: f32 },
        { name: "w.bf16", dtype: "BF16", shape: [6], data: f32 },
        { name: "w.f16", dtype: "F16", shape: [2], data: new Uint16Array([0x3c00, 0xc000]) },
        { name: "mask", dtype: "U8", shape: [3], data: new Uint8Array([0, 1, 0]) },
        { name: "ids", dtype: "I64", shape: [2], data: i64 },
        { name: "scalar", dtype: "F32", shape: [], data: new Float32Array([7]) },
        { name: "empty", dtype: "F32", shape: [0, 4], data: new Float32Array(0) },
      ],
      { format: "pt", note: "hello" },
    );
    const st = readSafetensors(file);
    assert.deepEqual(st.metadata, { format: "pt", note: "hello" });
    assert.deepEqual(st.tensorNames(), ["w.f32", "w.bf16", "w.f16", "mask", "ids", "scalar", "empty"]);
    assert.deepEqual(st.info("w.f32"), { name: "w.f32", dtype: "F32", shape: [2, 3], dataOffsets: [0, 24] });
    assert.deepEqual(st.info("w.bf16").dataOffsets, [24, 36]);
    assert.deepEqual(st.readFloat32("w.f32"), f32);
    assert.deepEqual(st.readFloat32("w.bf16"), f32.map((v) => roundTo("BF16", v)));
    assert.deepEqual([...st.readFloat32("w.f16")], [1, -2]);
    assert.deepEqual([...st.readTensor("mask").bytes], [0, 1, 0]);
    assert.deepEqual([...(typedView(st.readTensor("ids")) as BigInt64Array)], [-1n, 42n]);
    assert.deepEqual([...(typedView(st.readTensor("w.f16")) as Uint16Array)], [0x3c00, 0xc000]);
    assert.deepEqual(typedView(st.readTensor("w.f32")), f32);
    assert.deepEqual([...st.readFloat32("scalar")], [7]);
    assert.equal(st.readTensor("empty").bytes.byteLength, 0);
    assert.throws(() => st.readFloat32("mask"), /not a float dtype/);
    assert.throws(() => st.readTensor("nope"), /no tensor named "nope"/);

    // Standard layout: u64 LE header length, JSON padded with spaces to 8 bytes, contiguous data.
    const raw = readFileSync(file);
    const headerLength = Number(raw.readBigUInt64LE(0));
    assert.equal(headerLength % 8, 0);
    const json = raw.subarray(8, 8 + headerLength).toString("utf8");
    assert.match(json, /^\{.*\} *$/);
    assert.equal(JSON.parse(json).__metadata__.format, "pt");
    assert.equal(raw.length, 8 + headerLength + 24 + 12 + 4 + 3 + 16 + 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("no __metadata__ key when no metadata is given; golden files read back", () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, "t.safetensors");
    writeSafetensors(file, [{ name: "x", dtype: "F32", shape: [1], data: new Float32Array([1]) }]);
    assert.equal(readSafetensors(file).metadata, null);
    assert.doesNotMatch(readFileSync(file).toString("latin1"), /__metadata__/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const golden = readSafetensors(path.join(GOLDEN_DIR, "ties_bf16_sum_norm_a0.2_b1.0", "base.safetensors"));
  assert.deepEqual(golden.info("layers.0.mlp.down_proj.weight").shape, [48, 64]);
  assert.equal(golden.info("layers.0.mlp.down_proj.weight").dtype, "BF16");
  assert.equal(golden.readFloat32("layers.0.post_attention_layernorm.weight").length, 2500);
});

test("streaming writer: header first, then chunks in declaration order", () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, "s.safetensors");
    const w = createSafetensorsWriter(file, [
      { name: "a", dtype: "U8", shape: [4] },
      { name: "b", dtype: "U8", shape: [2] },
    ]);
    assert.throws(() => w.writeTensorChunk("b", new Uint8Array(2)), /belong to "a"/);
    w.writeTensorChunk("a", new Uint8Array([1, 2]));
    w.writeTensorChunk("a", new Uint8Array([3, 4]));
    assert.throws(() => w.writeTensorChunk("a", new Uint8Array([5])), /belong to "b"/);
    assert.equal(existsSync(file), false, "the final name appears only on close");
    w.writeTensorChunk("b", new Uint8Array([5, 6]));
    w.close();
    assert.deepEqual([...readSafetensors(file).readTensor("b").bytes], [5, 6]);

    const short = path.join(dir, "short.safetensors");
    const w2 = createSafetensorsWriter(short, [{ name: "a", dtype: "F32", shape: [2] }]);
    w2.writeTensorChunk("a", new Uint8Array(4));
    assert.throws(() => w2.close(), /only 4 of 8 data bytes/);
    assert.equal(existsSync(short) || existsSync(`${short}.partial`), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writer rejects data of the wrong size and duplicate names", () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, "bad.safetensors");
    assert.throws(() => writeSafetensors(file, [{ name: "a", dtype: "F32", shape: [3], data: new Float32Array(2) }]), /2 values for shape \[3\]/);
    assert.throws(() => writeSafetensors(file, [{ name: "a", dtype: "BF16", shape: [3], data: new Uint8Array(4) }]), /needs 6/);
    const one = { name: "a", dtype: "U8" as const, shape: [1], data: new Uint8Array(1) };
    assert.throws(() => writeSafetensors(file, [one, one]), /duplicate/);
    assert.equal(existsSync(file) || existsSync(`${file}.partial`), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("reader rejects obviously broken files with a clear error", () => {
  const dir = tempDir();
  try {
    const cases: [string, Buffer, RegExp][] = [
      ["tiny", Buffer.from([1, 2, 3]), /not a safetensors file/],
      ["huge-length", withLength(2n ** 40n, "{}"), /header length/],
      ["not-json", withLength(4n, "{abc"), /not valid JSON/],
      ["array", withLength(2n, "[]"), /must be a JSON object/],
      ["dtype", header({ a: { dtype: "F31", shape: [1], data_offsets: [0, 4] } }, 4), /unknown dtype/],
      ["size", header({ a: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, 4), /needs 8/],
      ["truncated", header({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, 4), /truncated/],
      ["shape", header({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, 4), /shape/],
      ["metadata", header({ __metadata__: { n: 1 } }, 0), /__metadata__/],
    ];
    for (const [name, bytes, error] of cases) {
      const file = path.join(dir, `${name}.safetensors`);
      writeFileSync(file, bytes);
      assert.throws(() => readSafetensors(file), error, name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function withLength(length: bigint, text: string): Buffer {
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(length);
  return Buffer.concat([prefix, Buffer.from(text)]);
}

function header(json: object, dataBytes: number): Buffer {
  const text = JSON.stringify(json);
  return Buffer.concat([withLength(BigInt(text.length), text), Buffer.alloc(dataBytes)]);
}
