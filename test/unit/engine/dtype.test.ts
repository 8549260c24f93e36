import { test } from "node:test";
import assert from "node:assert/strict";
import {
  bf16BitsToF32,
  decodeFloats,
  encodeFloats,
  f16BitsToF32,
  f32Bits,
  f32FromBits,
  f32ToBf16Bits,
  f32ToF16Bits,
  f32ToHalfBits,
  halfBitsToF32,
  roundTo,
  type HalfDType,
} from "@/server/engine/dtype";
import { Rng } from "@/server/engine/synthetic/prng";

const TO_BITS = { BF16: f32ToBf16Bits, F16: f32ToF16Bits };
const FROM_BITS = { BF16: bf16BitsToF32, F16: f16BitsToF32 };
const INF_BITS = { BF16: 0x7f80, F16: 0x7c00 };

test("bf16: exact values, round-to-nearest-even, overflow, subnormals, signed zero, NaN", () => {
  assert.equal(f32ToBf16Bits(1), 0x3f80);
  assert.equal(f32ToBf16Bits(-2), 0xc000);
  assert.equal(f32ToBf16Bits(1 + 2 ** -8), 0x3f80, "halfway, lower neighbour is even");
  assert.equal(f32ToBf16Bits(1 + 3 * 2 ** -8), 0x3f82, "halfway, upper neighbour is even");
  assert.equal(f32ToBf16Bits(1 + 2 ** -8 + 2 ** -20), 0x3f81, "just above halfway rounds up");
  assert.equal(f32ToBf16Bits(f32FromBits(0x7f7fffff)), 0x7f80, "largest f32 rounds to Inf");
  assert.equal(f32ToBf16Bits(Infinity), 0x7f80);
  assert.equal(f32ToBf16Bits(-Infinity), 0xff80);
  assert.equal(f32ToBf16Bits(2 ** -133), 0x0001, "smallest bf16 subnormal");
  assert.equal(f32ToBf16Bits(2 ** -149), 0x0000, "f32 subnormal below half a bf16 ulp");
  assert.equal(f32ToBf16Bits(-0), 0x8000);
  assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN))));
  assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(f32FromBits(0x7f800001)))), "NaN with only low payload bits stays NaN");
  assert.equal(bf16BitsToF32(0x3f80), 1);
  assert.ok(Object.is(bf16BitsToF32(0x8000), -0));
});

test("f16: exact values, round-to-nearest-even, overflow, subnormals, signed zero, NaN", () => {
  assert.equal(f32ToF16Bits(1), 0x3c00);
  assert.equal(f32ToF16Bits(65504), 0x7bff, "largest f16");
  assert.equal(f32ToF16Bits(65519), 0x7bff);
  assert.equal(f32ToF16Bits(65520), 0x7c00, "halfway past the largest f16 rounds to Inf");
  assert.equal(f32ToF16Bits(1e6), 0x7c00);
  assert.equal(f32ToF16Bits(-Infinity), 0xfc00);
  assert.equal(f32ToF16Bits(2 ** -14), 0x0400, "smallest normal");
  assert.equal(f32ToF16Bits(2 ** -24), 0x0001, "smallest subnormal");
  assert.equal(f32ToF16Bits(2 ** -25), 0x0000, "halfway to the smallest subnormal rounds to even 0");
  assert.equal(f32ToF16Bits(1.5 * 2 ** -25), 0x0001);
  assert.equal(f32ToF16Bits(3 * 2 ** -25), 0x0002, "subnormal halfway rounds to even");
  assert.equal(f32ToF16Bits(1023.5 * 2 ** -24), 0x0400, "largest subnormal rounds up into the normals");
  assert.equal(f32ToF16Bits(-0), 0x8000);
  assert.equal(f32ToF16Bits(1e-10), 0x0000);
  assert.ok(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN))));
  assert.equal(f16BitsToF32(0x0001), 2 ** -24);
  assert.equal(f16BitsToF32(0x8001), -(2 ** -24));
  assert.equal(f16BitsToF32(0x3555), 0.333251953125);
  assert.equal(f16BitsToF32(0xfc00), -Infinity);
  assert.ok(Object.is(f16BitsToF32(0x8000), -0));
});

for (const dtype of ["BF16", "F16"] as const) {
  test(`${dtype}: every 16-bit pattern survives widen -> narrow`, () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const x = FROM_BITS[dtype](bits);
      if (Number.isNaN(x)) assert.ok(Number.isNaN(FROM_BITS[dtype](TO_BITS[dtype](x))));
      else assert.equal(TO_BITS[dtype](x), bits, `bits 0x${bits.toString(16)}`);
    }
  });

  test(`${dtype}: narrowing agrees with a brute-force nearest-even oracle on random f32s`, () => {
    // Non-negative finite 16-bit patterns are increasing in value; the Inf pattern stands in
    // for the next power of two, which is exactly where RNE overflow to Inf is decided.
    const values = Array.from({ length: INF_BITS[dtype] + 1 }, (_, b) => (b === INF_BITS[dtype] ? (dtype === "F16" ? 65536 : 2 ** 128) : FROM_BITS[dtype](b)));
    const oracle = (x: number): number => {
      const a = Math.abs(x);
      let lo = 0;
      let hi = values.length - 1;
      if (a >= values[hi]!) return hi;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (values[mid]! <= a) lo = mid;
        else hi = mid;
      }
      const dLo = a - values[lo]!;
      const dHi = values[hi]! - a;
      return dLo < dHi || (dLo === dHi && lo % 2 === 0) ? lo : hi;
    };
    const rng = new Rng(`dtype-oracle-${dtype}`);
    for (let n = 0; n < 200_000; n++) {
      // Half the samples anywhere, half with an exponent near the dtype's range (F16's is narrow).
      const raw = rng.nextUint32();
      const x = f32FromBits(n % 2 === 0 ? raw : ((raw & 0x807fffff) | ((100 + (rng.nextUint32() % 46)) << 23)) >>> 0);
      if (!Number.isFinite(x)) continue;
      const expected = oracle(x) | (x < 0 || Object.is(x, -0) ? 0x8000 : 0);
      assert.equal(TO_BITS[dtype](x), expected, `${x} (0x${f32Bits(x).toString(16)})`);
      assert.equal(roundTo(dtype, x), FROM_BITS[dtype](expected));
    }
  });
}

test("roundTo F32 is Math.fround; 16-bit dtypes round via f32", () => {
  assert.equal(roundTo("F32", 0.1), Math.fround(0.1));
  assert.equal(roundTo("BF16", 0.1), 0.10009765625);
  assert.equal(roundTo("F16", 0.1), 0.0999755859375);
});

test("buffer helpers agree with the scalar conversions", () => {
  const rng = new Rng("dtype-buffers");
  const values = new Float32Array(4096).map(() => (rng.nextFloat() - 0.5) * 2 ** ((rng.nextUint32() % 60) - 30));
  values.set([0, -0, Infinity, -Infinity, NaN, 65520, 2 ** -25], 0);
  for (const dtype of ["BF16", "F16"] as HalfDType[]) {
    const bits = f32ToHalfBits(dtype, values);
    values.forEach((v, i) => assert.equal(bits[i], TO_BITS[dtype](v)));
    const widened = halfBitsToF32(dtype, bits);
    bits.forEach((b, i) => assert.ok(Object.is(widened[i], FROM_BITS[dtype](b))));
    const bytes = encodeFloats(dtype, values);
    assert.equal(bytes.byteLength, values.length * 2);
    assert.deepEqual(decodeFloats(dtype, bytes), widened);
  }
  assert.deepEqual(decodeFloats("F32", encodeFloats("F32", values)), values);
});
