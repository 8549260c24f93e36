// Reading safetensors files. Only the header is read up front; tensors are read on demand
// with positioned reads, so multi-GB checkpoints never need to fit in memory at once.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { decodeFloats, isFloatDType, type DType } from "@/server/engine/dtype";
import { MAX_HEADER_BYTES, numelOf, parseHeader, type SafetensorsHeader, type TensorInfo } from "@/server/engine/safetensors/format";

export interface RawTensor {
  name: string;
  dtype: DType;
  shape: number[];
  /** Little-endian bytes exactly as stored (8-byte aligned copy, safe to view as any typed array). */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  path: string;
  header: SafetensorsHeader;
  metadata: Record<string, string> | null;
  tensorNames(): string[];
  info(name: string): TensorInfo;
  readTensor(name: string): RawTensor;
  /** F32/F16/BF16 tensors widened to f32 values (exact). */
  readFloat32(name: string): Float32Array;
}

export function readSafetensors(path: string): SafetensorsFile {
  const header = readHeader(path);
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  const info = (name: string): TensorInfo => {
    const t = byName.get(name);
    if (!t) throw new Error(`${path}: no tensor named "${name}"`);
    return t;
  };
  const readTensor = (name: string): RawTensor => {
    const t = info(name);
    const bytes = readRange(path, header.dataStart + t.dataOffsets[0], t.dataOffsets[1] - t.dataOffsets[0]);
    return { name, dtype: t.dtype, shape: [...t.shape], bytes };
  };
  return {
    path,
    header,
    metadata: header.metadata,
    tensorNames: () => header.tensors.map((t) => t.name),
    info,
    readTensor,
    readFloat32(name) {
      const raw = readTensor(name);
      if (!isFloatDType(raw.dtype)) throw new Error(`${path}: tensor "${name}" has dtype ${raw.dtype}, not a float dtype`);
      const values = decodeFloats(raw.dtype, raw.bytes);
      if (values.length !== numelOf(raw.shape)) throw new Error(`${path}: tensor "${name}" size mismatch`);
      return values;
    },
  };
}

export function readHeader(path: string): SafetensorsHeader {
  const fd = openSync(path, "r");
  try {
    const fileSize = fstatSync(fd).size;
    if (fileSize < 8) throw new Error(`${path}: not a safetensors file (only ${fileSize} bytes)`);
    const lengthBytes = Buffer.alloc(8);
    readFully(fd, lengthBytes, 0, path);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || 8 + headerLength > fileSize) {
      throw new Error(`${path}: not a safetensors file (header length ${headerLength} does not fit in ${fileSize} bytes)`);
    }
    const json = Buffer.alloc(headerLength);
    readFully(fd, json, 8, path);
    const dataStart = 8 + headerLength;
    return parseHeader(json.toString("utf8"), dataStart, fileSize - dataStart, path);
  } finally {
    closeSync(fd);
  }
}

function readRange(path: string, position: number, length: number): Uint8Array {
  // A fresh ArrayBuffer (not Buffer's shared pool) so callers can view it as Float32Array etc.
  const bytes = new Uint8Array(new ArrayBuffer(length));
  const fd = openSync(path, "r");
  try {
    readFully(fd, bytes, position, path);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

function readFully(fd: number, into: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < into.length) {
    // Chunked: a single readSync is limited to 2 GiB.
    const n = readSync(fd, into, done, Math.min(into.length - done, 1 << 30), position + done);
    if (n === 0) throw new Error(`${path}: unexpected end of file`);
    done += n;
  }
}

export type TypedTensorArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/**
 * The tensor's bytes viewed as the matching typed array (no copy). 16-bit floats come back
 * as their raw Uint16Array bits (see dtype.ts to widen them); BOOL and F8 types as Uint8Array.
 */
export function typedView(raw: RawTensor): TypedTensorArray {
  const { buffer, byteOffset, byteLength } = raw.bytes;
  switch (raw.dtype) {
    case "BOOL":
    case "U8":
    case "F8_E4M3":
    case "F8_E5M2":
      return raw.bytes;
    case "I8":
      return new Int8Array(buffer, byteOffset, byteLength);
    case "U16":
    case "F16":
    case "BF16":
      return new Uint16Array(buffer, byteOffset, byteLength / 2);
    case "I16":
      return new Int16Array(buffer, byteOffset, byteLength / 2);
    case "U32":
      return new Uint32Array(buffer, byteOffset, byteLength / 4);
    case "I32":
      return new Int32Array(buffer, byteOffset, byteLength / 4);
    case "F32":
      return new Float32Array(buffer, byteOffset, byteLength / 4);
    case "U64":
      return new BigUint64Array(buffer, byteOffset, byteLength / 8);
    case "I64":
      return new BigInt64Array(buffer, byteOffset, byteLength / 8);
    case "F64":
      return new Float64Array(buffer, byteOffset, byteLength / 8);
  }
}
