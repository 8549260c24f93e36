// Buffer conversions. Simple loops over inline scalar converters; each is
// compiled for AVX-512 / AVX2 / baseline and picked at load time
// (target_clones). All variants compute bit-identical results: integer ops and
// single IEEE float ops only, no FMA contraction (pragma below).
#pragma GCC optimize("fp-contract=off", "vect-cost-model=dynamic")
#include "dtype.h"

#include "kernels/simd.h"

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

MS_CLONES static void round_bf16_buf(float* x, uint64_t n) { for (uint64_t i = 0; i < n; ++i) x[i] = round_bf16(x[i]); }
MS_CLONES static void round_f16_buf(float* x, uint64_t n) { for (uint64_t i = 0; i < n; ++i) x[i] = round_f16(x[i]); }

void round_buffer(float* x, uint64_t n, DType dt) {
  if (dt == DType::BF16) round_bf16_buf(x, n);
  else if (dt == DType::F16) round_f16_buf(x, n);
}

}  // namespace ms
