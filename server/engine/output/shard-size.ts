// Shard sizes as people write them: "5GB" (10^9, like Hugging Face's max_shard_size),
// "500MB", "2GiB" (2^30), or plain bytes.
export const DEFAULT_SHARD_SIZE_BYTES = 5 * 10 ** 9;

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Returns the size in bytes, or throws an Error explaining the accepted forms. */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new Error(`expected a size such as 5GB, 500MB, 2GiB or a number of bytes, got '${text}'`);
  }
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new Error(`expected a size of at least 1 byte, got '${text}'`);
  return bytes;
}
