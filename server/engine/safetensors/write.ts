// Writing safetensors files, either all at once or streamed tensor by tensor.
// Streaming works because the header only needs names, dtypes and shapes: it is written
// first, then each tensor's bytes are appended in declaration order. Files are written
// to "<path>.partial" and renamed on success, so a crash never leaves a plausible-looking
// truncated checkpoint behind.
import { closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { encodeFloats, isFloatDType } from "../dtype";
import { buildHeader, byteSizeOf, numelOf, type TensorInfo, type TensorLayout } from "./format";

export interface TensorToWrite extends TensorLayout {
  /**
   * Uint8Array: raw little-endian bytes as stored.
   * Float32Array: f32 values, encoded (rounded to nearest even) to `dtype`, which must be F32/F16/BF16.
   * Uint16Array: raw 16-bit words (e.g. bf16/f16 bits).
   */
  data: Uint8Array | Float32Array | Uint16Array;
}

export function writeSafetensors(path: string, tensors: readonly TensorToWrite[], metadata?: Record<string, string>): void {
  const writer = createSafetensorsWriter(path, tensors, metadata);
  try {
    for (const t of tensors) writer.writeTensorChunk(t.name, tensorBytes(t));
    writer.close();
  } catch (e) {
    writer.abort();
    throw e;
  }
}

export function tensorBytes(t: TensorToWrite): Uint8Array {
  const expected = byteSizeOf(t.dtype, t.shape);
  let bytes: Uint8Array;
  if (t.data instanceof Float32Array) {
    if (!isFloatDType(t.dtype)) throw new Error(`tensor "${t.name}": f32 values can only be written as F32/F16/BF16, not ${t.dtype}`);
    if (t.data.length !== numelOf(t.shape)) throw new Error(`tensor "${t.name}": ${t.data.length} values for shape ${JSON.stringify(t.shape)}`);
    bytes = encodeFloats(t.dtype, t.data);
  } else {
    bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  }
  if (bytes.byteLength !== expected) {
    throw new Error(`tensor "${t.name}": ${bytes.byteLength} bytes given but ${t.dtype}${JSON.stringify(t.shape)} needs ${expected}`);
  }
  return bytes;
}

export interface SafetensorsStreamWriter {
  readonly tensors: readonly TensorInfo[];
  /** Append bytes of tensor `name`; tensors must arrive in declaration order, each completely. */
  writeTensorChunk(name: string, chunk: Uint8Array): void;
  /** Check that every byte was written, then move the file into place. */
  close(): void;
  /** Give up: close and delete the partial file. Safe to call more than once. */
  abort(): void;
}

export function createSafetensorsWriter(
  path: string,
  layouts: readonly TensorLayout[],
  metadata?: Record<string, string> | null,
): SafetensorsStreamWriter {
  const { prefix, tensors, dataBytes } = buildHeader(layouts, metadata);
  const partialPath = `${path}.partial`;
  let fd: number | null = openSync(partialPath, "w");
  let position = 0;
  let dataWritten = 0;
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const append = (bytes: Uint8Array) => {
    let done = 0;
    while (done < bytes.byteLength) {
      done += writeSync(fd!, bytes, done, bytes.byteLength - done, position + done);
    }
    position += bytes.byteLength;
  };
  const abort = () => {
    if (fd !== null) closeSync(fd);
    fd = null;
    rmSync(partialPath, { force: true });
  };
  try {
    append(prefix);
  } catch (e) {
    abort();
    throw e;
  }

  return {
    tensors,
    writeTensorChunk(name, chunk) {
      if (fd === null) throw new Error(`${path}: writer is closed`);
      const t = byName.get(name);
      if (!t) throw new Error(`${path}: tensor "${name}" is not in the header`);
      // Offsets are contiguous in declaration order, so a position check enforces the order.
      if (dataWritten < t.dataOffsets[0] || dataWritten + chunk.byteLength > t.dataOffsets[1]) {
        const due = tensors.find((x) => x.dataOffsets[1] > dataWritten)?.name ?? "(none left)";
        throw new Error(`${path}: got ${chunk.byteLength} bytes for "${name}" but the next bytes belong to "${due}" (write each tensor completely, in declaration order)`);
      }
      append(chunk);
      dataWritten += chunk.byteLength;
    },
    close() {
      if (fd === null) throw new Error(`${path}: writer is closed`);
      if (dataWritten !== dataBytes) {
        abort();
        throw new Error(`${path}: only ${dataWritten} of ${dataBytes} data bytes were written; file discarded`);
      }
      closeSync(fd);
      fd = null;
      renameSync(partialPath, path);
    },
    abort,
  };
}
