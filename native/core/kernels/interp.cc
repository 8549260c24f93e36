// slerp and model_stock: interpolations between the base and the model(s).
// Each is two passes: float64 reductions (norms, dot products) in a fixed
// order, then one elementwise pass with the resulting coefficients.
// Semantics and operation order: docs/merge-methods.md.
#pragma GCC optimize("fp-contract=off")
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/common.h"
#include "kernels/kernels.h"
#include "kernels/tile_ops.h"

namespace ms::kern {

namespace {

uint64_t n_tiles(uint64_t n) { return n / kTile + (n % kTile != 0); }

// Per-tile float64 dot products of pairs of arrays, summed in tile order:
// sums[q] = sum_j a_q[j] * b_q[j] over [r0, r1) with tiles aligned to r0 = 0.
// Deterministic for any thread count.
std::vector<double> dots(const Job& job, const std::vector<const float*>& a, const std::vector<const float*>& b,
                         uint64_t r0, uint64_t r1) {
  const uint64_t Q = a.size();
  const uint64_t t_begin = r0 / kTile, nt = n_tiles(r1) - t_begin;
  std::vector<double> part(mul_size(nt, Q, "dot products"));
  const uint64_t tiles_per_task = kChunk / kTile;
  job.pool->parallel_for(nt / tiles_per_task + (nt % tiles_per_task != 0), [&](uint64_t task) {
    check_cancel(job.cancel);
    for (uint64_t ti = task * tiles_per_task; ti < std::min(nt, (task + 1) * tiles_per_task); ++ti) {
      const uint64_t j0 = std::max(r0, (t_begin + ti) * kTile), j1 = std::min(r1, (t_begin + ti + 1) * kTile);
      for (uint64_t q = 0; q < Q; ++q) part[ti * Q + q] = t_dot(a[q] + j0, b[q] + j0, j1 - j0);
    }
  });
  std::vector<double> sums(Q, 0.0);
  for (uint64_t ti = 0; ti < nt; ++ti)
    for (uint64_t q = 0; q < Q; ++q) sums[q] += part[ti * Q + q];
  return sums;
}

// Per-row sums for filter_wise: sums[rw * Q + q] over row rw, tiles of kTile
// from the row start added in order (the same order dots() uses for one row).
std::vector<double> row_dots(const Job& job, const std::vector<const float*>& a, const std::vector<const float*>& b,
                             uint64_t row, uint64_t rows) {
  const uint64_t Q = a.size();
  std::vector<double> sums(mul_size(rows, Q, "row sums"), 0.0);
  const uint64_t rows_per_task = std::max<uint64_t>(1, kChunk / std::max<uint64_t>(row, 1));
  job.pool->parallel_for(rows / rows_per_task + (rows % rows_per_task != 0), [&](uint64_t task) {
    check_cancel(job.cancel);
    for (uint64_t rw = task * rows_per_task; rw < std::min(rows, (task + 1) * rows_per_task); ++rw)
      for (uint64_t q = 0; q < Q; ++q) {
        double s = 0;
        for (uint64_t j0 = rw * row; j0 < (rw + 1) * row; j0 += kTile)
          s += t_dot(a[q] + j0, b[q] + j0, std::min(kTile, (rw + 1) * row - j0));
        sums[rw * Q + q] = s;
      }
  });
  return sums;
}

}  // namespace

// slerp, shape: out[n] = c0 * base[n] + c1 * x[n]   (float32 ops; c0, c1 from float64 angles)
void run_slerp(const Job& job) {
  const uint64_t n = job.n;
  const float* v0 = job.base;
  const float* v1 = job.models[0];
  const double t = job.p->t;
  const std::vector<double> s = dots(job, {v0, v1, v0}, {v0, v1, v1}, 0, n);
  const double n0 = std::sqrt(s[0]), n1 = std::sqrt(s[1]);
  const double u0 = n0 > 1e-8 ? n0 : 1.0, u1 = n1 > 1e-8 ? n1 : 1.0;  // mergekit: normalize only if norm > eps
  const double dot = s[2] / (u0 * u1);
  double c0, c1;
  if (std::fabs(dot) > 0.9995) {  // nearly colinear: lerp
    c0 = 1.0 - t;
    c1 = t;
  } else {
    const double th = std::acos(dot), st = std::sin(th);
    c0 = std::sin(th - th * t) / st;
    c1 = std::sin(th * t) / st;
  }
  if (!job.out) return;
  const float f0 = float(c0), f1 = float(c1);
  job.pool->parallel_for(n_chunks(n), [&](uint64_t c) {
    check_cancel(job.cancel);
    const uint64_t j1 = std::min(n, (c + 1) * kChunk);
    float tmp[kTile];
    for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
      const uint64_t m = std::min(kTile, j1 - t0);
      for (uint64_t j = 0; j < m; ++j) {
        const float a = f0 * v0[t0 + j];
        const float b = f1 * v1[t0 + j];
        tmp[j] = a + b;
      }
      std::memcpy(job.out + t0, tmp, m * sizeof(float));  // out may alias an input
    }
  });
}

// model_stock, shape: out[n] = t * avg(x_i)[n] + (1 - t) * base[n], t per
// tensor (or per row of row_len with filter_wise) from the mean pairwise
// cosine of the task vectors.
void run_model_stock(const Job& job) {
  const uint64_t n = job.n;
  const uint32_t N = job.n_models;
  const DType r = job.p->compute;
  const uint64_t row = job.p->filter_wise ? job.p->row_len : n;
  const uint64_t rows = n == 0 ? 0 : n / row;
  // Task vectors R(x_i - base), materialized: the reductions and the pairs need them
  // several times (memory: one tensor per model, like the inputs).
  std::vector<std::vector<float>> off(N, std::vector<float>(n));
  job.pool->parallel_for(n_chunks(n), [&](uint64_t c) {
    check_cancel(job.cancel);
    const uint64_t j1 = std::min(n, (c + 1) * kChunk);
    for (uint32_t i = 0; i < N; ++i)
      for (uint64_t j = c * kChunk; j < j1; ++j) off[i][j] = round_to(r, job.models[i][j] - job.base[j]);
  });
  std::vector<const float*> a, b;  // norms first, then pairs i < j
  for (uint32_t i = 0; i < N; ++i) { a.push_back(off[i].data()); b.push_back(off[i].data()); }
  for (uint32_t i = 0; i < N; ++i)
    for (uint32_t k = i + 1; k < N; ++k) { a.push_back(off[i].data()); b.push_back(off[k].data()); }
  const uint64_t P = uint64_t(N) * (N - 1) / 2;
  std::vector<float> t_row(rows);
  double t_sum = 0;
  const uint64_t Q = a.size();
  const std::vector<double> sums = rows == 1 ? dots(job, a, b, 0, n) : row_dots(job, a, b, row, rows);
  for (uint64_t rw = 0; rw < rows; ++rw) {
    const double* s = sums.data() + rw * Q;
    std::vector<float> norm(N);
    for (uint32_t i = 0; i < N; ++i) norm[i] = round_to(r, float(std::sqrt(s[i])));
    float cos_sum = 0.f;
    uint64_t q = N;
    for (uint32_t i = 0; i < N; ++i)
      for (uint32_t k = i + 1; k < N; ++k, ++q) {
        const float prod = round_to(r, norm[i] * norm[k]);
        float c = round_to(r, round_to(r, float(s[q])) / std::max(prod, 1e-6f));
        c = std::min(1.f, std::max(-1.f, c));
        cos_sum += c;
      }
    const float cos = round_to(r, round_to(r, cos_sum) / float(P));
    const float Nf = float(N);
    const float t = round_to(r, round_to(r, Nf * cos) / round_to(r, 1.f + round_to(r, (Nf - 1.f) * cos)));
    t_row[rw] = t;
    t_sum += t;
  }
  if (job.stats) {
    job.stats->has_interpolation_t = true;
    job.stats->interpolation_t = rows ? t_sum / double(rows) : 0.0;
  }
  if (!job.out) return;
  const float inv_n = float(N);
  job.pool->parallel_for(n_chunks(n), [&](uint64_t c) {
    check_cancel(job.cancel);
    const uint64_t j1 = std::min(n, (c + 1) * kChunk);
    float tmp[kTile];
    for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
      const uint64_t m = std::min(kTile, j1 - t0);
      for (uint64_t j = 0; j < m; ++j) {
        const uint64_t e = t0 + j;
        const float t = t_row[e / row];
        float sum = job.models[0][e];
        for (uint32_t i = 1; i < N; ++i) sum = round_to(r, sum + job.models[i][e]);
        const float avg = round_to(r, sum / inv_n);
        const float omt = round_to(r, 1.f - t);
        tmp[j] = round_to(r, round_to(r, t * avg) + round_to(r, omt * job.base[e]));
      }
      std::memcpy(job.out + t0, tmp, m * sizeof(float));  // out may alias an input
    }
  });
}

}  // namespace ms::kern
