// See tile_ops.h. Each public op switches on the rounding mode once and runs a
// branch-free loop specialized for it.
#pragma GCC optimize("fp-contract=off", "vect-cost-model=dynamic")
#include "kernels/tile_ops.h"

#include <cstring>

#include "kernels/common.h"
#include "kernels/dare_rng.h"
#include "kernels/simd.h"
#include "topk.h"

namespace ms::kern {

constexpr uint64_t kTileMax = kTile;  // m <= kTile in every op
static_assert(kTile % 8 == 0, "tile must hold whole 8-lane groups");

// Loop bodies must inline into each MS_CLONES variant, or they would run as
// baseline code: force it.
#define MS_INLINE inline __attribute__((always_inline))

namespace {
struct RNone { static MS_INLINE float r(float x) { return x; } };
struct RBf16 { static MS_INLINE float r(float x) { return round_bf16(x); } };
struct RF16 { static MS_INLINE float r(float x) { return round_f16(x); } };

MS_INLINE float sgnf(float x) { return x > 0.f ? 1.f : (x < 0.f ? -1.f : 0.f); }
}  // namespace

#define MS_DISPATCH_R(r, call)                     \
  switch (r) {                                     \
    case DType::BF16: { using R = RBf16; call; } break; \
    case DType::F16: { using R = RF16; call; } break;   \
    default: { using R = RNone; call; } break;          \
  }

// ----------------------------------------------------------------------------
template <class R>
static MS_INLINE void delta_keys(uint32_t* __restrict keys, const float* __restrict x, const float* __restrict b, uint64_t m) {
  for (uint64_t j = 0; j < m; ++j) keys[j] = mag_key(R::r(x[j] - b[j]));
}
MS_CLONES void t_delta_keys(uint32_t* keys, const float* x, const float* b, uint64_t m, DType r) {
  MS_DISPATCH_R(r, delta_keys<R>(keys, x, b, m));
}

template <class R>
static MS_INLINE void delta_trim(float* __restrict dt, const float* __restrict x, const float* __restrict b, uint64_t m, uint32_t tc) {
  for (uint64_t j = 0; j < m; ++j) {
    const float d = R::r(x[j] - b[j]);
    dt[j] = mag_key(d) >= tc ? d : 0.f;
  }
}
MS_CLONES void t_delta_trim(float* dt, const float* x, const float* b, uint64_t m, DType r, uint32_t tc) {
  MS_DISPATCH_R(r, delta_trim<R>(dt, x, b, m, tc));
}

template <class R, bool kCount>
static MS_INLINE void trim_weigh(float* __restrict dt, float* __restrict wd, float* __restrict acc,
                                 const float* __restrict x, const float* __restrict b, uint64_t m, uint32_t tc, float wr) {
  for (uint64_t j = 0; j < m; ++j) {
    const float d = R::r(x[j] - b[j]);
    const float t = mag_key(d) >= tc ? d : 0.f;
    const float v = R::r(wr * t);
    dt[j] = t;
    wd[j] = v;
    acc[j] += kCount ? sgnf(v) : v;
  }
}
MS_CLONES void t_trim_weigh(float* dt, float* wd, float* acc, const float* x, const float* b, uint64_t m, DType r,
                            uint32_t tc, float wr, bool count) {
  if (count) { MS_DISPATCH_R(r, (trim_weigh<R, true>(dt, wd, acc, x, b, m, tc, wr))); }
  else { MS_DISPATCH_R(r, (trim_weigh<R, false>(dt, wd, acc, x, b, m, tc, wr))); }
}

MS_CLONES uint64_t t_count_eq(const uint32_t* __restrict keys, uint64_t m, uint32_t t) {
  uint32_t c = 0;  // m <= kTile
  for (uint64_t j = 0; j < m; ++j) c += keys[j] == t;
  return c;
}

MS_CLONES uint64_t t_count_gt(const uint32_t* __restrict keys, uint64_t m, uint32_t t) {
  uint32_t c = 0;
  for (uint64_t j = 0; j < m; ++j) c += keys[j] > t;
  return c;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(MS_NO_CLONES)
#include <immintrin.h>
#define MS_HAVE_AVX512_COLLECT 1
// AVX-512 compress-store: 16 keys per step, order preserved.
__attribute__((target("avx512f"))) static uint64_t collect_avx512(uint32_t* out, const uint32_t* keys, uint64_t m,
                                                                  uint32_t lo, uint32_t hi) {
  uint64_t c = 0, j = 0;
  const __m512i vlo = _mm512_set1_epi32(int(lo)), vhi = _mm512_set1_epi32(int(hi));
  for (; j + 16 <= m; j += 16) {
    const __m512i k = _mm512_loadu_si512(keys + j);
    const __mmask16 in = _mm512_cmpgt_epu32_mask(k, vlo) & _mm512_cmplt_epu32_mask(k, vhi);
    _mm512_mask_compressstoreu_epi32(out + c, in, k);
    c += uint64_t(__builtin_popcount(in));
  }
  for (; j < m; ++j) {
    out[c] = keys[j];
    c += keys[j] > lo && keys[j] < hi;
  }
  return c;
}
#endif

uint64_t t_collect_between(uint32_t* out, const uint32_t* keys, uint64_t m, uint32_t lo, uint32_t hi) {
#ifdef MS_HAVE_AVX512_COLLECT
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  if (avx512) return collect_avx512(out, keys, m, lo, hi);
#endif
  uint64_t c = 0;
  for (uint64_t j = 0; j < m; ++j) {  // branch-free compaction
    out[c] = keys[j];
    c += uint64_t(keys[j] > lo) & uint64_t(keys[j] < hi);
  }
  return c;
}

template <class R>
static MS_INLINE void weigh_sum(float* __restrict wd, float* __restrict acc, const float* __restrict dt, float wr, uint64_t m) {
  for (uint64_t j = 0; j < m; ++j) {
    const float v = R::r(wr * dt[j]);
    wd[j] = v;
    acc[j] += v;
  }
}
MS_CLONES void t_weigh_sum(float* wd, float* acc, const float* dt, float wr, uint64_t m, DType r) {
  MS_DISPATCH_R(r, weigh_sum<R>(wd, acc, dt, wr, m));
}

template <class R>
static MS_INLINE void weigh_count(float* __restrict wd, float* __restrict acc, const float* __restrict dt, float wr, uint64_t m) {
  for (uint64_t j = 0; j < m; ++j) {
    const float v = R::r(wr * dt[j]);
    wd[j] = v;
    acc[j] += sgnf(v);
  }
}
MS_CLONES void t_weigh_count(float* wd, float* acc, const float* dt, float wr, uint64_t m, DType r) {
  MS_DISPATCH_R(r, weigh_count<R>(wd, acc, dt, wr, m));
}

template <class R>
static MS_INLINE void majority(float* __restrict maj, const float* __restrict acc, uint64_t m) {
  for (uint64_t j = 0; j < m; ++j) maj[j] = R::r(acc[j]) >= 0.f ? 1.f : -1.f;
}
MS_CLONES void t_majority(float* maj, const float* acc, uint64_t m, DType r) {
  MS_DISPATCH_R(r, majority<R>(maj, acc, m));
}

template <class R>
static MS_INLINE void sv_margin(uint32_t* __restrict mk, const float* __restrict acc, const float* __restrict wdf,
                             const float* __restrict maj, uint64_t m) {
  for (uint64_t j = 0; j < m; ++j) {
    const bool loses = wdf[j] * maj[j] < 0.f;  // maj is +-1: exact sign test; 0 and NaN never lose
    mk[j] = loses ? mag_key(R::r(acc[j])) : kNoCandidate;
  }
}
MS_CLONES void t_sv_margin(uint32_t* mk, const float* acc, const float* wdf, const float* maj, uint64_t m, DType r) {
  MS_DISPATCH_R(r, sv_margin<R>(mk, acc, wdf, maj, m));
}

MS_CLONES uint64_t t_sv_reserve(float* __restrict maj, const uint32_t* __restrict mk, const float* __restrict wdf,
                                uint32_t cutoff, uint64_t m) {
  uint32_t c = 0;
  for (uint64_t j = 0; j < m; ++j) {
    const bool res = mk[j] < cutoff;  // only candidates (wdf != 0) have keys < kNoCandidate
    const float sign = wdf[j] > 0.f ? 1.f : -1.f;
    maj[j] = res ? sign : maj[j];
    c += res;
  }
  return c;
}

MS_CLONES void t_contrib(float* __restrict mixed, float* __restrict div, float* __restrict nc, const float* __restrict wd,
                         const float* __restrict maj, float wr, uint64_t m) {
  for (uint64_t j = 0; j < m; ++j) {
    const float v = wd[j];
    const bool c = v * maj[j] > 0.f;  // maj is +-1: same non-zero sign (exact; NaN never contributes)
    mixed[j] += c ? v : 0.f;
    div[j] += c ? wr : 0.f;
    nc[j] += c ? 1.f : 0.f;
  }
}

template <class R, bool kNorm, bool kLam>
static MS_INLINE void finish_loop(float* res, const float* b, const float* mixed, const float* __restrict div, uint64_t m,
                               float lam) {
  for (uint64_t j = 0; j < m; ++j) {
    float q = R::r(mixed[j]);
    if (kNorm) {
      const float d = R::r(div[j]);
      q = R::r(q / (d == 0.f ? 1.f : d));
    }
    if (kLam) q = R::r(q * lam);
    res[j] = R::r(b[j] + q);
  }
}
template <class R>
static MS_INLINE void finish(float* res, const float* b, const float* mixed, const float* div, uint64_t m,
                          bool normalize, bool use_lambda, float lam) {
  // One loop per flag combination so each stays branch-free.
  if (normalize) {
    if (use_lambda) finish_loop<R, true, true>(res, b, mixed, div, m, lam);
    else finish_loop<R, true, false>(res, b, mixed, div, m, lam);
  } else {
    if (use_lambda) finish_loop<R, false, true>(res, b, mixed, div, m, lam);
    else finish_loop<R, false, false>(res, b, mixed, div, m, lam);
  }
}
MS_CLONES void t_finish(float* res, const float* b, const float* mixed, const float* div, uint64_t m, DType r,
                        bool normalize, bool use_lambda, float lam) {
  MS_DISPATCH_R(r, finish<R>(res, b, mixed, div, m, normalize, use_lambda, lam));
}

template <class R, bool kNorm, bool kLam>
static MS_INLINE void finish_scalar_loop(float* res, const float* b, const float* mixed, float div, uint64_t m, float lam) {
  for (uint64_t j = 0; j < m; ++j) {
    float q = R::r(mixed[j]);
    if (kNorm) q = R::r(q / div);
    if (kLam) q = R::r(q * lam);
    res[j] = R::r(b[j] + q);
  }
}
template <class R>
static MS_INLINE void finish_scalar(float* res, const float* b, const float* mixed, float div, uint64_t m, bool normalize,
                                 bool use_lambda, float lam) {
  if (normalize) {
    if (use_lambda) finish_scalar_loop<R, true, true>(res, b, mixed, div, m, lam);
    else finish_scalar_loop<R, true, false>(res, b, mixed, div, m, lam);
  } else {
    if (use_lambda) finish_scalar_loop<R, false, true>(res, b, mixed, div, m, lam);
    else finish_scalar_loop<R, false, false>(res, b, mixed, div, m, lam);
  }
}
MS_CLONES void t_finish_scalar(float* res, const float* b, const float* mixed, float div, uint64_t m, DType r,
                               bool normalize, bool use_lambda, float lam) {
  MS_DISPATCH_R(r, finish_scalar<R>(res, b, mixed, div, m, normalize, use_lambda, lam));
}

template <class R>
static MS_INLINE void linear_acc(float* __restrict acc, const float* __restrict x, float wr, uint64_t m) {
  for (uint64_t j = 0; j < m; ++j) acc[j] += R::r(wr * x[j]);
}
MS_CLONES void t_linear_acc(float* acc, const float* x, float wr, uint64_t m, DType r) {
  MS_DISPATCH_R(r, linear_acc<R>(acc, x, wr, m));
}

template <class R>
static MS_INLINE void linear_finish(float* res, const float* acc, uint64_t m, bool normalize, float div) {
  if (normalize) {
    for (uint64_t j = 0; j < m; ++j) res[j] = R::r(R::r(acc[j]) / div);
  } else {
    for (uint64_t j = 0; j < m; ++j) res[j] = R::r(acc[j]);
  }
}
MS_CLONES void t_linear_finish(float* res, const float* acc, uint64_t m, DType r, bool normalize, float div) {
  MS_DISPATCH_R(r, linear_finish<R>(res, acc, m, normalize, div));
}

MS_CLONES void t_cut_top(float* __restrict dt, uint64_t m, uint32_t tu) {
  for (uint64_t j = 0; j < m; ++j) dt[j] = mag_key(dt[j]) >= tu ? 0.f : dt[j];
}

namespace {
// Sum of a[0..m) in 8 interleaved float64 lanes added in lane order: the same
// result at any vector width (lane-wise adds), and the order the TS reference uses.
double lane_sum8(const float* a, uint64_t m) {
  typedef float v8f __attribute__((vector_size(32)));
  typedef double v8d __attribute__((vector_size(64)));
  v8d acc = {0, 0, 0, 0, 0, 0, 0, 0};
  uint64_t j = 0;
  for (; j + 8 <= m; j += 8) {
    v8f v;
    std::memcpy(&v, a + j, sizeof(v));
    acc += __builtin_convertvector(v, v8d);
  }
  for (uint64_t l = 0; j < m; ++j, ++l) acc[l] += double(a[j]);
  double s = 0;
  for (int l = 0; l < 8; ++l) s += acc[l];
  return s;
}

template <class R>
MS_INLINE uint64_t dare_mask(float* __restrict dt, uint64_t stream, uint64_t j0, uint64_t m, uint64_t thr, bool scale,
                             float ratio) {
  uint64_t kept = 0;
  if (scale) {
    for (uint64_t j = 0; j < m; ++j) {
      const bool keep = dare_u53(stream, j0 + j) < thr;
      dt[j] = keep ? R::r(dt[j] * ratio) : 0.f;
      kept += keep;
    }
  } else {
    for (uint64_t j = 0; j < m; ++j) {
      const bool keep = dare_u53(stream, j0 + j) < thr;
      dt[j] = keep ? dt[j] : 0.f;
      kept += keep;
    }
  }
  return kept;
}
}  // namespace

MS_CLONES uint64_t t_dare_mask(float* dt, uint64_t stream, uint64_t j0, uint64_t m, uint64_t thr, bool scale,
                               float ratio, DType r) {
  uint64_t kept = 0;
  MS_DISPATCH_R(r, kept = dare_mask<R>(dt, stream, j0, m, thr, scale, ratio));
  return kept;
}

namespace {
template <class R>
MS_INLINE uint64_t keep_bits(float* __restrict dt, const uint64_t* __restrict bits, uint64_t j0, uint64_t m, bool scale,
                             float ratio) {
  uint64_t kept = 0;
  for (uint64_t j = 0; j < m; ++j) {
    const bool keep = (bits[(j0 + j) >> 6] >> ((j0 + j) & 63)) & 1;
    dt[j] = keep ? (scale ? R::r(dt[j] * ratio) : dt[j]) : 0.f;
    kept += keep;
  }
  return kept;
}
}  // namespace

MS_CLONES uint64_t t_keep_bits(float* dt, const uint64_t* bits, uint64_t j0, uint64_t m, bool scale, float ratio,
                               DType r) {
  uint64_t kept = 0;
  MS_DISPATCH_R(r, kept = keep_bits<R>(dt, bits, j0, m, scale, ratio));
  return kept;
}

MS_CLONES void t_dare_l1(double* all, double* kept, const float* __restrict dt, uint64_t stream, uint64_t j0,
                         uint64_t m, uint64_t thr) {
  float a[kTileMax], k[kTileMax];
  for (uint64_t j = 0; j < m; ++j) {
    a[j] = __builtin_fabsf(dt[j]);
    k[j] = dare_u53(stream, j0 + j) < thr ? a[j] : 0.f;
  }
  *all = lane_sum8(a, m);
  *kept = lane_sum8(k, m);
}

MS_CLONES void t_sign_of(float* __restrict sg, const float* __restrict wd, uint64_t m) {
  for (uint64_t j = 0; j < m; ++j) sg[j] = sgnf(wd[j]);
}

MS_CLONES double t_dot(const float* __restrict a, const float* __restrict b, uint64_t m) {
  // products are exact in float64 (24 + 24 bits)
  typedef double v8d __attribute__((vector_size(64)));
  v8d acc = {0, 0, 0, 0, 0, 0, 0, 0};
  uint64_t j = 0;
  for (; j + 8 <= m; j += 8)
    for (int l = 0; l < 8; ++l) acc[l] += double(a[j + l]) * double(b[j + l]);
  for (uint64_t l = 0; j < m; ++j, ++l) acc[l] += double(a[j]) * double(b[j]);
  double s = 0;
  for (int l = 0; l < 8; ++l) s += acc[l];
  return s;
}

// ---- density sweep ------------------------------------------------------------
MS_CLONES void t_sweep_levels(uint32_t* __restrict f, const float* __restrict d, uint64_t m, const uint32_t* tc,
                              uint32_t n_levels) {
  // A threshold of 0 (a level keeping everything) never counts: drop those.
  // Up to 8 remaining thresholds: one pass, the rest padded with 0.
  uint32_t th[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  uint32_t used = 0;
  for (uint32_t u = 0; u < n_levels; ++u)
    if (tc[u] != 0) {
      if (used == 8) { used = 9; break; }
      th[used++] = tc[u];
    }
  if (used <= 8) {
    for (uint64_t j = 0; j < m; ++j) {
      const uint32_t k = mag_key(d[j]);
      uint32_t c = 0;
      for (uint32_t u = 0; u < 8; ++u) c += k < th[u] ? 1u : 0u;
      f[j] = c;
    }
    return;
  }
  for (uint64_t j = 0; j < m; ++j) f[j] = 0;
  for (uint32_t u = 0; u < n_levels; ++u) {
    const uint32_t t = tc[u];
    for (uint64_t j = 0; j < m; ++j) f[j] += mag_key(d[j]) < t ? 1u : 0u;
  }
}

MS_CLONES void t_sweep_state(uint32_t* __restrict sig, const float* __restrict d, const float* __restrict wd,
                             uint64_t m, uint32_t shift) {
  for (uint64_t j = 0; j < m; ++j) {
    const uint32_t dpos = d[j] > 0.f, dneg = d[j] < 0.f, nan = d[j] != d[j];
    const uint32_t wpos = wd[j] > 0.f, wneg = wd[j] < 0.f, wz = 1u - wpos - wneg;
    const uint32_t code = dpos * (1u + wneg + 2u * wz) + dneg * (4u + wpos + 2u * wz) + nan * 7u;
    sig[j] |= code << shift;
  }
}

template <class R>
static MS_INLINE void sweep_majority(uint32_t* __restrict sig, const float* __restrict acc, uint64_t m, uint32_t bit) {
  for (uint64_t j = 0; j < m; ++j) sig[j] |= R::r(acc[j]) >= 0.f ? bit : 0u;
}
MS_CLONES void t_sweep_majority(uint32_t* sig, const float* acc, uint64_t m, uint32_t bit, DType r) {
  MS_DISPATCH_R(r, sweep_majority<R>(sig, acc, m, bit));
}

MS_CLONES void t_sweep_cell(uint32_t* __restrict cell, const uint32_t* __restrict f, uint64_t m, uint32_t radix) {
  for (uint64_t j = 0; j < m; ++j) cell[j] = cell[j] * radix + f[j];
}

// ---- statistics -------------------------------------------------------------
MS_CLONES void t_signs(float* __restrict pos, float* __restrict neg, const float* __restrict dt, uint64_t m) {
  for (uint64_t j = 0; j < m; ++j) {
    pos[j] += dt[j] > 0.f ? 1.f : 0.f;
    neg[j] += dt[j] < 0.f ? 1.f : 0.f;
  }
}

MS_CLONES uint64_t t_nnz(const float* __restrict x, uint64_t m) {
  uint64_t c = 0;
  for (uint64_t j = 0; j < m; ++j) c += x[j] != 0.f;
  return c;
}

MS_CLONES void t_model_stats(ModelTileStats* s, const float* __restrict dt, const float* __restrict wd,
                             const float* __restrict maj, const float* __restrict pos, const float* __restrict neg,
                             uint64_t m) {
  // Bitwise &, not &&: keeps the loop free of control flow so it vectorizes.
  uint32_t nnz = 0, contributing = 0, discarded = 0, in_conflict = 0, won = 0;
  for (uint64_t j = 0; j < m; ++j) {
    const uint32_t c = wd[j] * maj[j] > 0.f;
    const uint32_t nz = dt[j] != 0.f;
    const uint32_t conflict = uint32_t(pos[j] > 0.f) & uint32_t(neg[j] > 0.f);
    nnz += nz;
    contributing += c;
    discarded += nz & (c ^ 1u);
    in_conflict += nz & conflict;
    won += c & conflict;
  }
  // L1 mass of discarded entries: 8 interleaved double lanes (GCC vector
  // extension: lane-wise adds, same order at any vector width), summed in
  // lane order at the end -> deterministic on every ISA variant.
  typedef float v8f __attribute__((vector_size(32)));
  typedef double v8d __attribute__((vector_size(64)));
  float a[kTileMax];
  for (uint64_t j = 0; j < m; ++j) a[j] = wd[j] * maj[j] > 0.f ? 0.f : __builtin_fabsf(dt[j]);
  for (uint64_t j = m; j < ((m + 7) & ~uint64_t(7)); ++j) a[j] = 0.f;  // pad the last group with zeros
  v8d acc = {0, 0, 0, 0, 0, 0, 0, 0};
  for (uint64_t j = 0; j < m; j += 8) {
    v8f v;
    std::memcpy(&v, a + j, sizeof(v));
    acc += __builtin_convertvector(v, v8d);
  }
  double l1 = 0;
  for (int l = 0; l < 8; ++l) l1 += acc[l];
  s->nnz += nnz;
  s->contributing += contributing;
  s->discarded += discarded;
  s->in_conflict += in_conflict;
  s->conflicts_won += won;
  s->l1_discarded += l1;
}

// ---- task-vector geometry ---------------------------------------------------
MS_CLONES void t_geometry(GeometryTileStats* s, const float* __restrict d0, const float* __restrict d1,
                          const float* __restrict k0, const float* __restrict k1, uint64_t m) {
  // products of two floats are exact in float64, so only the lane adds round (fixed order)
  typedef double v8d __attribute__((vector_size(64)));
  v8d a0 = {0, 0, 0, 0, 0, 0, 0, 0}, a1 = a0, ad = a0;
  uint32_t both = 0, agree = 0;
  uint64_t j = 0;
  for (; j + 8 <= m; j += 8)
    for (int l = 0; l < 8; ++l) {
      const double x = d0[j + l], y = d1[j + l];
      a0[l] += x * x;
      a1[l] += y * y;
      ad[l] += x * y;
    }
  for (uint64_t l = 0; j < m; ++j, ++l) {
    const double x = d0[j], y = d1[j];
    a0[l] += x * x;
    a1[l] += y * y;
    ad[l] += x * y;
  }
  for (j = 0; j < m; ++j) {
    both += uint32_t(d0[j] != 0.f) & uint32_t(d1[j] != 0.f);
    agree += (uint32_t(d0[j] > 0.f) & uint32_t(d1[j] > 0.f)) | (uint32_t(d0[j] < 0.f) & uint32_t(d1[j] < 0.f));
  }
  double s0 = 0, s1 = 0, sd = 0;
  for (int l = 0; l < 8; ++l) {
    s0 += a0[l];
    s1 += a1[l];
    sd += ad[l];
  }
  s->sum_sq0 += s0;
  s->sum_sq1 += s1;
  s->dot += sd;
  s->both_nonzero += both;
  s->signs_agree += agree;
  if (k0 && k1) {
    uint32_t in = 0, un = 0;
    for (j = 0; j < m; ++j) {
      const uint32_t x = k0[j] != 0.f, y = k1[j] != 0.f;
      in += x & y;
      un += x | y;
    }
    s->mask_intersection += in;
    s->mask_union += un;
  }
}

MS_CLONES double t_sum_sq(const float* __restrict d, uint64_t m) { return t_dot(d, d, m); }

MS_CLONES void t_kept(float* __restrict keep, const float* __restrict dt, uint64_t m, bool all) {
  if (all) {
    for (uint64_t j = 0; j < m; ++j) keep[j] = 1.f;
    return;
  }
  for (uint64_t j = 0; j < m; ++j) keep[j] = dt[j] != 0.f ? 1.f : 0.f;
}

MS_CLONES void t_tensor_stats(TensorTileStats* s, const float* __restrict pos, const float* __restrict neg,
                              const float* __restrict nc, const float* __restrict maj, uint64_t m) {
  uint32_t conf = 0, none = 0, negm = 0;
  for (uint64_t j = 0; j < m; ++j) {
    conf += uint32_t(pos[j] > 0.f) & uint32_t(neg[j] > 0.f);
    none += nc[j] == 0.f;
    negm += maj[j] < 0.f;
  }
  s->sign_conflicts += conf;
  s->no_contributor += none;
  s->majority_negative += negm;
}

}  // namespace ms::kern
