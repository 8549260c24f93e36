// Buffer conversions. Simple loops over inline scalar converters; each is
// compiled for AVX-512 / AVX2 / baseline and picked at load time
// (target_clones). All variants compute bit-identical results: integer ops and
// single IEEE float ops only, no FMA contraction (pragma below).
#pragma GCC optimize("fp-contract=off", "vect-cost-model=dynamic")
#include "dtype.h"

#include "kernels/simd.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MS_NT_WIDEN 1
#include <immintrin.h>
#endif

namespace ms {

const char* dtype_name(DType dt) {
  switch (dt) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
  }
  return "?";
}

uint64_t dtype_size(DType dt) { return dt == DType::F32 ? 4 : 2; }

MS_CLONES void widen_bf16(float* __restrict out, const uint16_t* __restrict in, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(in[i]);
}

MS_CLONES void widen_f16(float* __restrict out, const uint16_t* __restrict in, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) out[i] = f16_to_f32(in[i]);
}

MS_CLONES void narrow_bf16(uint16_t* __restrict out, const float* __restrict in, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) out[i] = uint16_t(f32_bits(round_bf16(in[i])) >> 16);
}

MS_CLONES void narrow_f16(uint16_t* __restrict out, const float* __restrict in, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) out[i] = f32_to_f16(in[i]);
}

void widen(float* out, const void* in, DType dt, uint64_t n) {
  switch (dt) {
    case DType::F32: if (n) std::memcpy(out, in, n * 4); break;
    case DType::F16: widen_f16(out, static_cast<const uint16_t*>(in), n); break;
    case DType::BF16: widen_bf16(out, static_cast<const uint16_t*>(in), n); break;
  }
}

void narrow(void* out, const float* in, DType dt, uint64_t n) {
  switch (dt) {
    case DType::F32: if (n) std::memcpy(out, in, n * 4); break;
    case DType::F16: narrow_f16(static_cast<uint16_t*>(out), in, n); break;
    case DType::BF16: narrow_bf16(static_cast<uint16_t*>(out), in, n); break;
  }
}

#ifdef MS_NT_WIDEN
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12 false positive inside the AVX-512 headers
#endif
// BF16 -> F32 is a 16-bit shift; these variants store with non-temporal
// (streaming) stores, which skip reading the destination lines into cache.
__attribute__((target("avx512f"))) static void widen_bf16_nt512(float* out, const uint16_t* in, uint64_t n) {
  uint64_t i = 0;
  for (; i < n && (reinterpret_cast<uintptr_t>(out + i) & 63); ++i) out[i] = bf16_to_f32(in[i]);
  for (; i + 16 <= n; i += 16) {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i)));
    _mm512_stream_si512(reinterpret_cast<__m512i*>(out + i), _mm512_slli_epi32(v, 16));
  }
  for (; i < n; ++i) out[i] = bf16_to_f32(in[i]);
  _mm_sfence();
}

__attribute__((target("avx2"))) static void widen_bf16_nt256(float* out, const uint16_t* in, uint64_t n) {
  uint64_t i = 0;
  for (; i < n && (reinterpret_cast<uintptr_t>(out + i) & 31); ++i) out[i] = bf16_to_f32(in[i]);
  for (; i + 8 <= n; i += 8) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)));
    _mm256_stream_si256(reinterpret_cast<__m256i*>(out + i), _mm256_slli_epi32(v, 16));
  }
  for (; i < n; ++i) out[i] = bf16_to_f32(in[i]);
  _mm_sfence();
}
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

void widen_stream(float* out, const void* in, DType dt, uint64_t n) {
#ifdef MS_NT_WIDEN
  if (dt == DType::BF16) {
    static const int isa = __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
    if (isa == 2) return widen_bf16_nt512(out, static_cast<const uint16_t*>(in), n);
    if (isa == 1) return widen_bf16_nt256(out, static_cast<const uint16_t*>(in), n);
  }
#endif
  widen(out, in, dt, n);
}

MS_CLONES static void round_bf16_buf(float* x, uint64_t n) { for (uint64_t i = 0; i < n; ++i) x[i] = round_bf16(x[i]); }
MS_CLONES static void round_f16_buf(float* x, uint64_t n) { for (uint64_t i = 0; i < n; ++i) x[i] = round_f16(x[i]); }

void round_buffer(float* x, uint64_t n, DType dt) {
  if (dt == DType::BF16) round_bf16_buf(x, n);
  else if (dt == DType::F16) round_f16_buf(x, n);
}

}  // namespace ms
