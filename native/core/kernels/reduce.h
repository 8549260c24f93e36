// Deterministic float64 reductions over the vectors of a tensor, and the two
// arithmetic policies of the methods that reduce (sce, nuslerp, multislerp,
// karcher, arcee_fusion). Internal to the kernels.
//
// Vectors: a tensor of n elements is V vectors of length L, either contiguous
// (vector v = elements [v*L, (v+1)*L): flatten, or rows of the last dim) or
// strided (element i of vector v at i*V + v: the columns along dim 0).
//
// Order (never depends on the thread count): contiguous vectors are summed in
// tiles of kTile elements from the vector's start, 4 interleaved lanes per
// tile (i mod 4) combined as (l0 + l1) + (l2 + l3), tiles added in order;
// strided vectors in element order with one accumulator.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/common.h"
#include "kernels/kernels.h"

namespace ms::kern {

struct VecLayout {
  uint64_t count = 0;  // V
  uint64_t len = 0;    // L
  bool strided = false;
  uint64_t at(uint64_t v, uint64_t i) const { return strided ? i * count + v : v * len + i; }
};

// out[v * Q + q] = sum over the elements e of vector v of the q-th term;
// term(e, v, acc) adds the Q terms of element e (of vector v) into acc[0..Q).
// term may also write per-element results at e (each e is visited once).
template <class Term>
std::vector<double> vector_sums(const Job& job, const VecLayout& lay, uint32_t Q, const Term& term) {
  const uint64_t V = lay.count, L = lay.len;
  std::vector<double> out(mul_size(V, Q, "vector sums"), 0.0);
  if (V == 0 || L == 0) return out;
  if (lay.strided) {
    constexpr uint64_t kCols = 256;  // vectors per task
    const uint64_t n_tasks = V / kCols + (V % kCols != 0);
    job.pool->parallel_for(n_tasks, [&](uint64_t task) {
      check_cancel(job.cancel);
      const uint64_t v0 = task * kCols, v1 = std::min(V, v0 + kCols);
      for (uint64_t i = 0; i < L; ++i)
        for (uint64_t v = v0; v < v1; ++v) term(i * V + v, v, out.data() + v * Q);
    });
    return out;
  }
  const uint64_t tpv = L / kTile + (L % kTile != 0);  // tiles per vector
  const uint64_t nt = mul_size(V, tpv, "vector tiles");
  std::vector<double> part(mul_size(nt, Q, "vector tile sums"));
  const uint64_t per_task = kChunk / kTile;
  job.pool->parallel_for(nt / per_task + (nt % per_task != 0), [&](uint64_t task) {
    check_cancel(job.cancel);
    std::vector<double> lanes(4 * uint64_t(Q));
    for (uint64_t ti = task * per_task; ti < std::min(nt, (task + 1) * per_task); ++ti) {
      const uint64_t v = ti / tpv, i0 = (ti % tpv) * kTile, i1 = std::min(L, i0 + kTile);
      std::fill(lanes.begin(), lanes.end(), 0.0);
      const uint64_t e0 = v * L;
      for (uint64_t i = i0; i < i1; ++i) term(e0 + i, v, lanes.data() + (i & 3) * Q);
      for (uint32_t q = 0; q < Q; ++q)
        part[ti * Q + q] = (lanes[q] + lanes[Q + q]) + (lanes[2 * Q + q] + lanes[3 * Q + q]);
    }
  });
  for (uint64_t v = 0; v < V; ++v)
    for (uint64_t t = 0; t < tpv; ++t)
      for (uint32_t q = 0; q < Q; ++q) out[v * Q + q] += part[(v * tpv + t) * Q + q];
  return out;
}

// Runs fn(e0, m, v, worker) over the tiles of contiguous vectors: tiles of kTile
// elements from each vector's start (a tile never spans two vectors), in fixed
// groups of tiles (any thread, any order). worker < pool size identifies the
// thread (for its scratch).
template <class Fn>
void for_vector_tiles(const Job& job, const VecLayout& lay, const Fn& fn) {
  const uint64_t V = lay.count, L = lay.len;
  if (V == 0 || L == 0) return;
  const uint64_t tpv = L / kTile + (L % kTile != 0);  // tiles per vector
  const uint64_t nt = mul_size(V, tpv, "vector tiles");
  const uint64_t per_task = kChunk / kTile;
  job.pool->parallel_for_worker(nt / per_task + (nt % per_task != 0), [&](uint64_t task, unsigned worker) {
    check_cancel(job.cancel);
    for (uint64_t ti = task * per_task; ti < std::min(nt, (task + 1) * per_task); ++ti) {
      const uint64_t v = ti / tpv, i0 = (ti % tpv) * kTile;
      fn(v * L + i0, std::min(kTile, L - i0), v, worker);
    }
  });
}

// Float64 sums over contiguous vectors whose per-tile values the caller computes
// (so its loops can vectorize): tile(e0, m, v, sums, worker) writes the Q sums of
// elements [e0, e0 + m) of vector v into sums[0..Q). out[v * Q + q]: tiles added
// in order. The same order as vector_sums when tile() uses lane_sum.
template <class TileFn>
std::vector<double> vector_tile_sums(const Job& job, const VecLayout& lay, uint32_t Q, const TileFn& tile) {
  const uint64_t V = lay.count, L = lay.len;
  std::vector<double> out(mul_size(V, Q, "vector sums"), 0.0);
  if (V == 0 || L == 0) return out;
  const uint64_t tpv = L / kTile + (L % kTile != 0);
  std::vector<double> part(mul_size(mul_size(V, tpv, "vector tiles"), Q, "vector tile sums"));
  for_vector_tiles(job, lay, [&](uint64_t e0, uint64_t m, uint64_t v, unsigned worker) {
    const uint64_t ti = v * tpv + (e0 - v * L) / kTile;
    tile(e0, m, v, part.data() + ti * Q, worker);
  });
  for (uint64_t v = 0; v < V; ++v)
    for (uint64_t t = 0; t < tpv; ++t)
      for (uint32_t q = 0; q < Q; ++q) out[v * Q + q] += part[(v * tpv + t) * Q + q];
  return out;
}

// The same over the whole tensor as one vector: tile(t0, m, sums, worker).
template <class TileFn>
std::vector<double> tile_sums(const Job& job, uint64_t n, uint32_t Q, const TileFn& tile) {
  return vector_tile_sums(job, VecLayout{uint64_t(n != 0), n, false}, Q,
                          [&](uint64_t e0, uint64_t m, uint64_t, double* sums, unsigned worker) { tile(e0, m, sums, worker); });
}

// sum of v[0..m) in float64: 4 interleaved lanes (j mod 4) combined as (l0 + l1) + (l2 + l3).
inline double lane_sum(const float* v, uint64_t m) {
  double l[4] = {0, 0, 0, 0};
  uint64_t j = 0;
  for (; j + 4 <= m; j += 4)
    for (int k = 0; k < 4; ++k) l[k] += double(v[j + k]);
  for (; j < m; ++j) l[j & 3] += double(v[j]);
  return (l[0] + l[1]) + (l[2] + l[3]);
}

// sum of a[j] * b[j] over [0, m) in float64, in lane_sum's order.
template <class T>
double lane_dot(const T* a, const T* b, uint64_t m) {
  double l[4] = {0, 0, 0, 0};
  uint64_t j = 0;
  for (; j + 4 <= m; j += 4)
    for (int k = 0; k < 4; ++k) l[k] += double(a[j + k]) * double(b[j + k]);
  for (; j < m; ++j) l[j & 3] += double(a[j]) * double(b[j]);
  return (l[0] + l[1]) + (l[2] + l[3]);
}

// Runs fn(e0, e1) over [0, n) in fixed chunks (any thread, any order); for
// elementwise passes whose results do not depend on the order.
template <class Fn>
void for_chunks(const Job& job, uint64_t n, const Fn& fn) {
  job.pool->parallel_for(n_chunks(n), [&](uint64_t c) {
    check_cancel(job.cancel);
    fn(c * kChunk, std::min(n, (c + 1) * kChunk));
  });
}

// Runs fn(e, v) for every element e (v = its vector) in fixed chunks, any
// thread and order: elementwise passes that need per-vector coefficients.
template <class Fn>
void for_elements(const Job& job, const VecLayout& lay, const Fn& fn) {
  const uint64_t n = lay.count * lay.len;
  if (n == 0) return;
  for_chunks(job, n, [&](uint64_t e0, uint64_t e1) {
    if (lay.strided) {
      uint64_t v = e0 % lay.count;
      for (uint64_t e = e0; e < e1; ++e) {
        fn(e, v);
        if (++v == lay.count) v = 0;
      }
    } else {
      uint64_t v = e0 / lay.len, end = (v + 1) * lay.len;
      for (uint64_t e = e0; e < e1; ++e) {
        if (e == end) { ++v; end += lay.len; }
        fn(e, v);
      }
    }
  });
}

// float32 elementary functions, evaluated in float64 and rounded once: the
// correctly rounded float32 value in all but ~2^-29 of cases, so the results do
// not depend on the platform's float32 libm (torch's own SLEEF/AVX versions
// differ from every libm by up to 1 ULP anyway).
inline float facos(float x) { return float(std::acos(double(x))); }
inline float fsin(float x) { return float(std::sin(double(x))); }
inline float fcos(float x) { return float(std::cos(double(x))); }
inline float fexp(float x) { return float(std::exp(double(x))); }
inline float flog(float x) { return float(std::log(double(x))); }

// ---- Arithmetic policies. T is the type intermediate values live in.
//
// F64: float32 compute. Every operation in float64, rounded to float32 once
// at the end: the formulas evaluated (nearly) exactly. torch's float32
// evaluation differs from that by rounding noise (golden README: within
// 7.5e-9 absolute for values ~0.02), so this is the closest deterministic
// estimate of mergekit's float32 output.
struct F64Arith {
  using T = double;
  T r(double x) const { return x; }           // result of an elementwise op
  T sum(double s) const { return s; }         // result of a reduction (float64 sum)
  T scalar_add(double s) const { return s; }  // Python scalar in `x + s`
  T scalar_mul(double s) const { return s; }  // Python scalar in `x * s`, `x / s`
  T scalar_op0(double s) const { return s; }  // 0-dim float32 tensor as the FIRST operand of a binary op
  float out(double x) const { return float(x); }
};

// Mirror: F16/BF16 ("native") compute, torch's op sequence on 16-bit tensors:
// each elementwise op in float32, rounded to the dtype; reductions accumulate
// wider and round once; a Python scalar is rounded to the dtype first in
// `x + s` but enters as float32 in `x * s`; a 0-dim float32 tensor that is
// the first operand is cast to the dtype (TensorIterator's common dtype), as
// the second it keeps its float32 value. With F32 as the dtype this is plain
// float32 arithmetic (sce, arcee_fusion use it for float32 compute too).
// The dtype is a template argument so the rounding inlines into the loops.
template <DType D>
struct Mirror {
  using T = float;
  static constexpr DType dtype = D;
  MS_ALWAYS_INLINE T r(float x) const {
    if constexpr (D == DType::BF16) return round_bf16(x);
    else if constexpr (D == DType::F16) return round_f16(x);
    else return x;
  }
  T sum(double s) const { return r(float(s)); }
  T scalar_add(double s) const { return r(float(s)); }
  T scalar_mul(double s) const { return float(s); }
  T scalar_op0(double s) const { return r(float(s)); }
  float out(float x) const { return x; }
};

// Calls fn(Mirror<d>{}) with the dtype as a compile-time constant.
template <class Fn>
void with_mirror(DType d, const Fn& fn) {
  switch (d) {
    case DType::F32: fn(Mirror<DType::F32>{}); break;
    case DType::F16: fn(Mirror<DType::F16>{}); break;
    case DType::BF16: fn(Mirror<DType::BF16>{}); break;
  }
}

}  // namespace ms::kern
