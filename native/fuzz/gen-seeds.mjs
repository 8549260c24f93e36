#!/usr/bin/env node
// Regenerates the hand-written seed inputs of native/fuzz/corpus/<target>/
// (files named seed-*; units added by `node scripts/fuzz.mjs --merge` are
// named by their SHA-1 and left alone). Deterministic; run from anywhere:
//   node native/fuzz/gen-seeds.mjs
// Seeds: every distinct header of test/fixtures/golden/*/*.safetensors as a
// whole file (header + zero-filled data of the right length) and shrunk to
// small shapes, one file per safetensors error code, hand-made
// model.safetensors.index.json files, and JSON edge cases.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const golden = path.join(root, "test/fixtures/golden");
const corpus = path.join(here, "corpus");

const seeds = { safetensors_header: new Map(), index_json: new Map(), json: new Map() };
const add = (target, name, bytes) => seeds[target].set(`seed-${name}`, Buffer.from(bytes));

const le64 = (n) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
// Whole safetensors file: declared length = header bytes unless given.
const stFile = (header, dataLen, declared) => {
  const h = Buffer.from(header);
  return Buffer.concat([le64(declared ?? h.length), h, Buffer.alloc(dataLen)]);
};
const BITS = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32,
  F64: 64, I64: 64, U64: 64, F8_E8M0: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, C64: 64,
};
// Builds a valid header from [name, dtype, shape] in data order.
const buildHeader = (tensors, metadata) => {
  const h = {};
  if (metadata !== undefined) h.__metadata__ = metadata;
  let off = 0;
  for (const [name, dtype, shape] of tensors) {
    const bytes = (shape.reduce((a, b) => a * b, 1) * BITS[dtype]) / 8;
    h[name] = { dtype, shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  return { header: JSON.stringify(h), dataLen: off };
};

// ---------------------------------------------------------------- golden headers
const goldenHeaders = new Map(); // header text -> data length
for (const dir of fs.readdirSync(golden).sort()) {
  const d = path.join(golden, dir);
  if (!fs.statSync(d).isDirectory()) continue;
  for (const f of fs.readdirSync(d).sort()) {
    if (!f.endsWith(".safetensors")) continue;
    const b = fs.readFileSync(path.join(d, f));
    const n = Number(b.readBigUInt64LE(0));
    const header = b.subarray(8, 8 + n).toString("latin1");
    if (!goldenHeaders.has(header)) goldenHeaders.set(header, b.length - 8 - n);
  }
}
let gi = 0;
for (const [header, dataLen] of goldenHeaders) {
  const tag = String(gi++).padStart(2, "0");
  add("safetensors_header", `golden-${tag}`, stFile(Buffer.from(header, "latin1"), dataLen));
  // Same names and dtypes, small shapes, so mutations stay cheap.
  const j = JSON.parse(header);
  const ts = Object.entries(j)
    .filter(([k]) => k !== "__metadata__")
    .sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0])
    .map(([k, v]) => [k, v.dtype, v.shape.map((x) => Math.min(x, 3))]);
  const small = buildHeader(ts, j.__metadata__);
  add("safetensors_header", `golden-${tag}-small`, stFile(small.header, small.dataLen));
  add("json", `golden-header-${tag}`, Buffer.from(header, "latin1"));
}
const jsonTexts = new Set();
for (const dir of fs.readdirSync(golden).sort()) {
  const p = path.join(golden, dir, "case.json");
  if (fs.existsSync(p)) jsonTexts.add(fs.readFileSync(p, "utf8"));
}
let ci = 0;
for (const t of jsonTexts) add("json", `golden-case-${String(ci++).padStart(2, "0")}`, t);
add("json", "golden-index", fs.readFileSync(path.join(golden, "index.json")));

// ---------------------------------------------------------------- safetensors: valid
{
  const all = buildHeader(Object.keys(BITS).map((d, i) => [`t${i}`, d, d === "F4" ? [2, 3] : d.startsWith("F6") ? [4] : [3]]));
  add("safetensors_header", "all-dtypes", stFile(all.header, all.dataLen));
  const md = `{"b":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]},"__metadata__":{"format":"pt","note":"x"},` +
    `"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}}       `;
  add("safetensors_header", "metadata-padding-unordered", stFile(md, 32));
  add("safetensors_header", "zero-size-and-scalar", stFile(
    `{"z0":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]},"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]},` +
    `"z1":{"dtype":"F16","shape":[3,0],"data_offsets":[8,8]},"z2":{"dtype":"I8","shape":[0],"data_offsets":[8,8]}}`, 8));
  add("safetensors_header", "unicode-names", stFile(
    `{"caf\\u00e9.w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"\u4e2d\ud83d\ude00":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, 2));
  add("safetensors_header", "empty", stFile("{}", 0));
  add("safetensors_header", "metadata-null", stFile(`{"__metadata__":null}`, 0));
  add("safetensors_header", "whitespace", stFile(`{\n\t"a" : {"dtype":"U8","shape":[1],"data_offsets":[0,1]}\r\n}`, 1));
  const h640 = `{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`.padEnd(640, " ");
  add("safetensors_header", "length-looks-like-pickle", stFile(h640, 2));
  const many = buildHeader(Array.from({ length: 40 }, (_, i) => [`model.layers.${i}.w`, "BF16", [2, 2]]));
  add("safetensors_header", "forty-tensors", stFile(many.header, many.dataLen));
}
// ---------------------------------------------------------------- safetensors: one per error code
{
  const one = (entry, data) => stFile(`{"w":${entry}}`, data);
  const E = (name, bytes) => add("safetensors_header", `err-${name}`, bytes);
  E("file-too-small", Buffer.from("abc"));
  E("header-too-large", Buffer.concat([le64(100000001), Buffer.from("{}")]));
  E("header-length-invalid", Buffer.concat([le64(100), Buffer.from("{}")]));
  E("header-not-utf8", stFile(Buffer.from([0x7b, 0x22, 0x61, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 0));
  E("header-start-invalid", stFile(" {}", 0));
  E("header-json-invalid", stFile(`{"a":1,}`, 0));
  E("header-duplicate-key", stFile(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, 1));
  E("tensor-info-invalid", one(`{"dtype":"U8","shape":[4],"data_offsets":[0,4],"extra":1}`, 4));
  E("dtype-unknown", one(`{"dtype":"Q4_K","shape":[4],"data_offsets":[0,4]}`, 4));
  E("shape-overflow", one(`{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}`, 0));
  E("tensor-size-mismatch", one(`{"dtype":"F4","shape":[3],"data_offsets":[0,2]}`, 2));
  E("offsets-invalid", stFile(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`, 6));
  E("offsets-huge", one(`{"dtype":"U8","shape":[0],"data_offsets":[18446744073709551615,18446744073709551615]}`, 0));
  E("data-truncated", one(`{"dtype":"U8","shape":[8],"data_offsets":[0,8]}`, 4));
  E("trailing-bytes", one(`{"dtype":"U8","shape":[8],"data_offsets":[0,8]}`, 12));
  E("metadata-invalid", stFile(`{"__metadata__":{"a":1}}`, 0));
  E("pickle-format", Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]));
  E("zip-format", Buffer.concat([Buffer.from("PK\x03\x04\x14\0\0\0\x08\0", "latin1"), Buffer.alloc(20, 0x7a)]));
}

// ---------------------------------------------------------------- index.json
{
  const I = (name, text) => add("index_json", name, text);
  const wm = {};
  for (let l = 0; l < 3; ++l)
    for (const p of ["self_attn.q_proj", "mlp.down_proj", "input_layernorm"])
      wm[`model.layers.${l}.${p}.weight`] = `model-0000${1 + (l % 2)}-of-00002.safetensors`;
  I("typical", JSON.stringify({ metadata: { total_size: 28966928384 }, weight_map: wm }, null, 2));
  I("compact", `{"weight_map":{"a":"model.safetensors"}}`);
  I("extra-keys", `{"metadata":{"format":"pt","x":[1,2,{"y":null}]},"other":true,"weight_map":{"a":"s1.safetensors","b":"s2.safetensors"}}`);
  I("unicode", `{"weight_map":{"caf\\u00e9":"m\\u00e9.safetensors","\u4e2d":"\ud83d\ude00.safetensors"}}`);
  I("path-dotdot", `{"weight_map":{"a":"../evil.safetensors"}}`);
  I("path-absolute", `{"weight_map":{"a":"/etc/passwd"}}`);
  I("path-backslash", `{"weight_map":{"a":"..\\\\x.safetensors"}}`);
  I("path-nul", `{"weight_map":{"a":"x\\u0000.safetensors"}}`);
  I("path-empty", `{"weight_map":{"a":""}}`);
  I("path-dot", `{"weight_map":{"a":"."}}`);
  I("missing-weight-map", `{"metadata":{}}`);
  I("weight-map-array", `{"weight_map":["a"]}`);
  I("weight-map-empty", `{"weight_map":{}}`);
  I("weight-map-number", `{"weight_map":{"a":1}}`);
  I("weight-map-null", `{"weight_map":{"a":null}}`);
  I("duplicate-tensor", `{"weight_map":{"a":"x.safetensors","a":"y.safetensors"}}`);
  I("duplicate-top", `{"weight_map":{"a":"x"},"weight_map":{"b":"y"}}`);
  I("not-object", `["weight_map"]`);
  I("bad-json", `{"weight_map":{"a":"x",}}`);
  I("bom", "\ufeff{\"weight_map\":{\"a\":\"x\"}}");
}

// ---------------------------------------------------------------- json
{
  const J = (name, text) => add("json", name, text);
  J("scalars", `[0,-0,1.5e-3,18446744073709551615,18446744073709551616,1e400,-1e400,1e-400,true,false,null,""]`);
  J("escapes", `["a\\"b\\\\c\\/d\\b\\f\\n\\r\\t","\\u00e9\\u4e2d","\\ud83d\\ude00","\\u0000x","\u00e9\u4e2d\ud83d\ude00"]`);
  J("depth-64", "[".repeat(64) + "]".repeat(64));
  J("depth-65", "[".repeat(65) + "]".repeat(65));
  J("objects-nested", `{"a":{"a":1,"b":{"a":2}},"b":{"a":3},"c":[{},[],{"d":[null]}]}`);
  J("dup-small", `{"a":1,"b":2,"a":3}`);
  J("dup-escaped", `{"a":1,"\\u0061":2}`);
  const big = Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`).join(",");
  J("object-40", `{${big}}`);
  J("dup-hashed", `{${big},"k20":0}`);
  J("lone-surrogate", `["\\ud800"]`);
  J("bad-utf8", Buffer.concat([Buffer.from('["'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"]')]));
  J("overlong", Buffer.concat([Buffer.from('["'), Buffer.from([0xc0, 0xaf]), Buffer.from('"]')]));
  J("whitespace", " \t\r\n{ \"a\" :\n[ 1 , 2 ] } \n");
  J("trailing", `{} x`);
  J("scalar-string", `"just a string"`);
}

// ---------------------------------------------------------------- write
let written = 0, total = 0;
for (const [target, files] of Object.entries(seeds)) {
  const dir = path.join(corpus, target);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) if (f.startsWith("seed-")) fs.rmSync(path.join(dir, f));
  for (const [name, bytes] of files) {
    fs.writeFileSync(path.join(dir, name), bytes);
    ++written;
    total += bytes.length;
  }
}
console.log(`wrote ${written} seed files (${total} bytes) under ${path.relative(root, corpus)}/`);
