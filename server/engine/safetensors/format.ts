// The safetensors container: 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets}} plus optional "__metadata__": {string: string}),
// then the raw little-endian tensor data. data_offsets are relative to the data section.
import { DTYPE_BYTES, isDType, type DType } from "../dtype";

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** [begin, end) byte range inside the data section. */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  tensors: TensorInfo[];
  metadata: Record<string, string> | null;
  /** Absolute file offset where the data section starts (8 + header length). */
  dataStart: number;
}

/** Refuse headers above this size: real ones are kilobytes, garbage lengths are huge. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function byteSizeOf(dtype: DType, shape: readonly number[]): number {
  return numelOf(shape) * DTYPE_BYTES[dtype];
}

/** Parse and sanity-check a header (JSON text); `dataBytes` is the size of the data section. */
export function parseHeader(json: string, dataStart: number, dataBytes: number, where: string): SafetensorsHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new Error(`${where}: safetensors header is not valid JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new Error(`${where}: safetensors header must be a JSON object`);
  }
  let metadata: Record<string, string> | null = null;
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(raw as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = parseMetadata(entry, where);
      continue;
    }
    tensors.push(parseTensorEntry(name, entry, dataBytes, where));
  }
  // Offsets as written; callers wanting file order can sort by dataOffsets[0].
  return { tensors, metadata, dataStart };
}

function parseMetadata(entry: unknown, where: string): Record<string, string> {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
    throw new Error(`${where}: __metadata__ must be an object of strings`);
  }
  for (const [k, v] of Object.entries(entry)) {
    if (typeof v !== "string") throw new Error(`${where}: __metadata__.${k} must be a string`);
  }
  return { ...(entry as Record<string, string>) };
}

function parseTensorEntry(name: string, entry: unknown, dataBytes: number, where: string): TensorInfo {
  const bad = (why: string) => new Error(`${where}: tensor "${name}": ${why}`);
  if (entry === null || typeof entry !== "object") throw bad("entry must be an object");
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== "string" || !isDType(dtype)) throw bad(`unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw bad(`data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const expected = byteSizeOf(dtype, shape as number[]);
  if (end - begin !== expected) throw bad(`data_offsets span ${end - begin} bytes but ${dtype}${JSON.stringify(shape)} needs ${expected}`);
  if (end > dataBytes) throw bad(`data ends at ${end} but the data section has only ${dataBytes} bytes (truncated file?)`);
  return { name, dtype, shape: [...(shape as number[])], dataOffsets: [begin, end] };
}

export interface TensorLayout {
  name: string;
  dtype: DType;
  shape: number[];
}

/**
 * Serialize a header for tensors stored contiguously in the given order.
 * Returns the complete prefix (length + JSON padded with spaces to a multiple of 8,
 * so the data section starts 8-byte aligned) and each tensor's data offsets.
 */
export function buildHeader(
  layouts: readonly TensorLayout[],
  metadata?: Record<string, string> | null,
): { prefix: Uint8Array; tensors: TensorInfo[]; dataBytes: number } {
  const json: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) json.__metadata__ = metadata;
  const tensors: TensorInfo[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const { name, dtype, shape } of layouts) {
    if (name === "__metadata__") throw new Error(`"__metadata__" is reserved and cannot name a tensor`);
    if (seen.has(name)) throw new Error(`duplicate tensor name "${name}"`);
    seen.add(name);
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`tensor "${name}": bad shape ${JSON.stringify(shape)}`);
    const size = byteSizeOf(dtype, shape);
    const info: TensorInfo = { name, dtype, shape: [...shape], dataOffsets: [offset, offset + size] };
    tensors.push(info);
    json[name] = { dtype, shape: info.shape, data_offsets: info.dataOffsets };
    offset += size;
  }
  const text = new TextEncoder().encode(JSON.stringify(json));
  const padded = Math.ceil(text.length / 8) * 8;
  const prefix = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(padded), true);
  prefix.set(text, 8);
  return { prefix, tensors, dataBytes: offset };
}
