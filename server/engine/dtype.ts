// Float formats used by checkpoints, and exact conversions between them and f32.
//
// All narrowing conversions round to nearest, ties to even (what PyTorch's
// `.to(torch.bfloat16)` / `.half()` and every GPU do). Narrowing from a JS number
// goes through f32 first on purpose: the engines compute in f32 and then round to
// the storage dtype, so that double rounding is the behaviour we must reproduce.

export type FloatDType = "F32" | "F16" | "BF16";
export type HalfDType = "F16" | "BF16";

/** Every dtype name the safetensors format defines, with its element size in bytes. */
export const DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
} as const;

export type DType = keyof typeof DTYPE_BYTES;

export function isDType(name: string): name is DType {
  return Object.prototype.hasOwnProperty.call(DTYPE_BYTES, name);
}

export function isFloatDType(name: string): name is FloatDType {
  return name === "F32" || name === "F16" || name === "BF16";
}

// Typed arrays use the platform byte order; safetensors is little-endian.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("MergeScope's TypeScript engine code assumes a little-endian platform");
}

// Scratch cell for reinterpreting f32 bits (JS has no bit casts).
const f32Cell = new Float32Array(1);
const u32Cell = new Uint32Array(f32Cell.buffer);

export function f32Bits(x: number): number {
  f32Cell[0] = x;
  return u32Cell[0]!;
}

export function f32FromBits(bits: number): number {
  u32Cell[0] = bits >>> 0;
  return f32Cell[0]!;
}

// ---------- bfloat16: the top 16 bits of an f32 ----------

export function f32ToBf16Bits(x: number): number {
  return bf16BitsFromF32Bits(f32Bits(x));
}

function bf16BitsFromF32Bits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) {
    // NaN: truncating could clear every mantissa bit and turn it into Inf, so force the quiet bit.
    return ((bits >>> 16) | 0x0040) & 0xffff;
  }
  // Adding 0x7fff plus the lowest kept bit rounds to nearest-even; overflow carries into the
  // exponent, which correctly produces Inf for values above the largest bf16.
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16BitsToF32(bits: number): number {
  return f32FromBits((bits & 0xffff) << 16);
}

// ---------- IEEE binary16 ----------

export function f32ToF16Bits(x: number): number {
  const bits = f32Bits(x);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x0200 | (mant >>> 13) : 0);
  const halfExp = exp - 127 + 15;
  if (halfExp >= 0x1f) return sign | 0x7c00;
  if (halfExp <= 0) return sign | roundedF16Subnormal(exp, mant, halfExp);
  let half = (halfExp << 10) | (mant >>> 13);
  const dropped = mant & 0x1fff;
  // A carry out of the mantissa bumps the exponent (possibly to Inf), which is the right answer.
  if (dropped > 0x1000 || (dropped === 0x1000 && (half & 1) === 1)) half += 1;
  return sign | half;
}

function roundedF16Subnormal(exp: number, mant: number, halfExp: number): number {
  // Below half the smallest subnormal (2^-25) everything rounds to zero; this includes
  // f32 subnormals (exp === 0), so the implicit leading 1 below is always right.
  if (halfExp < -10) return 0;
  const significand = mant | 0x800000; // f32 normal: restore the implicit leading 1
  const shift = 14 - halfExp; // f16 subnormal = m * 2^-24, f32 = significand * 2^(exp-150)
  const halfway = 2 ** (shift - 1);
  const dropped = significand % 2 ** shift;
  let m = Math.floor(significand / 2 ** shift);
  if (dropped > halfway || (dropped === halfway && (m & 1) === 1)) m += 1; // may become 0x400 = min normal
  return m;
}

export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0x1f) {
    // Build the f32 bits so NaN keeps its sign and payload.
    return f32FromBits(((bits & 0x8000) << 16) | 0x7f800000 | (mant << 13));
  }
  if (exp === 0) return sign * mant * 2 ** -24;
  return f32FromBits(((bits & 0x8000) << 16) | ((exp + 112) << 23) | (mant << 13));
}

// ---------- scalar rounding ----------

/** Round x to the nearest value representable in `dtype` (via f32, see file comment). */
export function roundTo(dtype: FloatDType, x: number): number {
  switch (dtype) {
    case "F32":
      return Math.fround(x);
    case "BF16":
      return bf16BitsToF32(f32ToBf16Bits(x));
    case "F16":
      return f16BitsToF32(f32ToF16Bits(x));
  }
}

// ---------- buffer helpers ----------

/** Widen raw 16-bit float bits to f32 values (exact). */
export function halfBitsToF32(dtype: HalfDType, bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  if (dtype === "BF16") {
    const outBits = new Uint32Array(out.buffer);
    for (let i = 0; i < bits.length; i++) outBits[i] = bits[i]! << 16;
  } else {
    for (let i = 0; i < bits.length; i++) out[i] = f16BitsToF32(bits[i]!);
  }
  return out;
}

/** Narrow f32 values to raw 16-bit float bits (round to nearest even). */
export function f32ToHalfBits(dtype: HalfDType, values: Float32Array, out = new Uint16Array(values.length)): Uint16Array {
  if (dtype === "BF16") {
    // Hot path for the model generator: read the f32 bits directly instead of per-call casts.
    const inBits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < values.length; i++) out[i] = bf16BitsFromF32Bits(inBits[i]!);
  } else {
    for (let i = 0; i < values.length; i++) out[i] = f32ToF16Bits(values[i]!);
  }
  return out;
}

/** Decode little-endian raw bytes of a float tensor to f32 values. */
export function decodeFloats(dtype: FloatDType, bytes: Uint8Array): Float32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  if (dtype === "F32") {
    return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4).slice();
  }
  return halfBitsToF32(dtype, new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2));
}

/** Encode f32 values as little-endian raw bytes of `dtype` (rounding for 16-bit dtypes). */
export function encodeFloats(dtype: FloatDType, values: Float32Array): Uint8Array {
  if (dtype === "F32") return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const bits = f32ToHalfBits(dtype, values);
  return new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);
}
