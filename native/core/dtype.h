// Floating-point storage dtypes of merged tensors and exact conversions.
//
// All conversions are IEEE-exact: widening (F16/BF16 -> F32) is lossless;
// narrowing (F32 -> F16/BF16) rounds to nearest, ties to even (RNE), like
// torch's `.to(dtype)`. Subnormals are handled exactly (no flush to zero);
// overflow rounds to +-inf; NaN stays NaN (sign and top payload bits kept,
// quiet bit set; torch would write the canonical 0x7FC0 / 0x7E00 instead,
// which only differs in payload).
//
// `round_to(dt, x)` == widen(narrow(x)): the value x takes when stored in dt.
// The merge kernels apply it after every elementwise op in "native" compute
// mode (see merge_kernels.h).
#pragma once
#include <cstdint>
#include <cstring>

// Hot helpers are forced inline so they vectorize inside the kernels' loops
// (including the per-ISA clones, which cannot call baseline code cheaply).
#if defined(__GNUC__)
#define MS_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define MS_ALWAYS_INLINE inline
#endif

namespace ms {

enum class DType : uint8_t { F32, F16, BF16 };

const char* dtype_name(DType dt);   // "F32", "F16", "BF16" (safetensors spelling)
uint64_t dtype_size(DType dt);      // bytes per element: 4, 2, 2

MS_ALWAYS_INLINE uint32_t f32_bits(float x) { uint32_t u; std::memcpy(&u, &x, 4); return u; }
MS_ALWAYS_INLINE float f32_from_bits(uint32_t u) { float x; std::memcpy(&x, &u, 4); return x; }

// ---- BF16: the top half of an F32.
inline float bf16_to_f32(uint16_t h) { return f32_from_bits(uint32_t(h) << 16); }

inline uint16_t f32_to_bf16(float x) {
  const uint32_t u = f32_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40u);  // NaN: keep, make quiet
  return uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);                   // RNE; carries into exponent (-> inf) correctly
}

// ---- F16 (IEEE binary16: 1 sign, 5 exponent, 10 mantissa bits, bias 15).
inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0) {  // zero / subnormal: m * 2^-24 is exact in F32
    const float v = float(m) * 5.9604644775390625e-8f;
    return f32_from_bits(f32_bits(v) | sign);
  }
  if (e == 31) return f32_from_bits(sign | 0x7f800000u | (m << 13));  // inf / NaN
  return f32_from_bits(sign | ((e + 112u) << 23) | (m << 13));
}

inline uint16_t f32_to_f16(float x) {
  const uint32_t u = f32_bits(x);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return uint16_t(sign | 0x7e00u | ((a >> 13) & 0x3ffu));  // NaN
  if (a >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // >= 65520 (half-way above 65504, ties to even) -> inf
  if (a >= 0x38800000u) {                                   // >= 2^-14: normal F16
    const uint32_t r = a + 0xfffu + ((a >> 13) & 1u);       // RNE at bit 13
    return uint16_t(sign | ((r - 0x38000000u) >> 13));      // rebias exponent 127 -> 15
  }
  // |x| < 2^-14: F16 subnormal grid is k * 2^-24. Adding 0.5 (whose ulp is 2^-24)
  // rounds |x| to that grid with the FPU's RNE; the bit distance to 0.5 is k.
  const float f = f32_from_bits(a) + 0.5f;
  return uint16_t(sign | (f32_bits(f) - 0x3f000000u));
}

// ---- Round an F32 value to the nearest value representable in dt (RNE),
// staying in F32. Branch-free so loops over it auto-vectorize.
MS_ALWAYS_INLINE float round_bf16(float x) {
  const uint32_t u = f32_bits(x);
  const uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  const uint32_t q = (u | 0x400000u) & 0xffff0000u;                 // NaN: quiet, truncated payload
  return f32_from_bits((u & 0x7fffffffu) > 0x7f800000u ? q : r);
}

MS_ALWAYS_INLINE float round_f16(float x) {
  const uint32_t u = f32_bits(x);
  const uint32_t a = u & 0x7fffffffu, sign = u & 0x80000000u;
  uint32_t rn = (a + 0xfffu + ((a >> 13) & 1u)) & 0xffffe000u;      // normal range, RNE at bit 13
  rn = rn >= 0x47800000u ? 0x7f800000u : rn;                        // rounded past 65504 -> inf
  // subnormal range: (|x| + 0.5) - 0.5 rounds to a multiple of 2^-24 exactly
  const uint32_t rs = f32_bits((f32_from_bits(a) + 0.5f) - 0.5f);
  const uint32_t q = (a | 0x400000u) & 0xffffe000u;                 // NaN
  uint32_t r = a < 0x38800000u ? rs : rn;
  r = a > 0x7f800000u ? q : r;
  return f32_from_bits(r | sign);
}

inline float round_to(DType dt, float x) {
  switch (dt) {
    case DType::BF16: return round_bf16(x);
    case DType::F16: return round_f16(x);
    default: return x;
  }
}

// ---- Buffers (single-threaded, memory-bound; split ranges across threads if needed).
// `out` and `in` must not overlap.
void widen_bf16(float* out, const uint16_t* in, uint64_t n);
void widen_f16(float* out, const uint16_t* in, uint64_t n);
void narrow_bf16(uint16_t* out, const float* in, uint64_t n);   // RNE
void narrow_f16(uint16_t* out, const float* in, uint64_t n);    // RNE
// Raw little-endian storage bytes of dtype dt <-> F32 (F32: plain copy).
void widen(float* out, const void* in, DType dt, uint64_t n);
void narrow(void* out, const float* in, DType dt, uint64_t n);
// Same values as widen(); BF16 uses non-temporal stores where the CPU has
// AVX2/AVX-512 (for filling large arrays that are not read back right away).
void widen_stream(float* out, const void* in, DType dt, uint64_t n);
// x[i] = round_to(dt, x[i]) in place.
void round_buffer(float* x, uint64_t n, DType dt);

}  // namespace ms
