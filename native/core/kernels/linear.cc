// linear and task_arithmetic: one fused pass, no selection.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/common.h"
#include "kernels/kernels.h"
#include "kernels/tile_ops.h"

namespace ms::kern {

// linear, shape: out[n] = sum_i wr_i * x_i[n]  (/ sum_i wr_i if normalize)
void run_linear(const Job& job) {
  const uint64_t n = job.n;
  const uint32_t M = job.n_models;
  const DType r = job.p->compute;
  float wsum = 0.f;  // F32 accumulation, rounded once (torch: weights.sum(0) in the dtype)
  for (uint32_t i = 0; i < M; ++i) wsum += job.wr[i];
  wsum = round_to(r, wsum);
  const bool normalize = job.p->normalize;
  if (!job.out) return;  // nothing else to analyze for linear
  const unsigned nw = job.pool->size();
  std::vector<float> scratch(uint64_t(nw) * kTile);
  job.pool->parallel_for_worker(n_chunks(n), [&](uint64_t c, unsigned w) {
    check_cancel(job.cancel);
    float* acc = scratch.data() + uint64_t(w) * kTile;
    const uint64_t j1 = std::min(n, (c + 1) * kChunk);
    for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
      const uint64_t m = std::min(kTile, j1 - t0);
      std::fill(acc, acc + m, 0.f);
      for (uint32_t i = 0; i < M; ++i) t_linear_acc(acc, job.models[i] + t0, job.wr[i], m, r);
      t_linear_finish(acc, acc, m, r, normalize, wsum);
      std::memcpy(job.out + t0, acc, m * sizeof(float));  // out may alias an input: written after reading
    }
  });
}

// task_arithmetic, shape: out[n] = b + lam * (sum_i wr_i * (x_i - b)) (/ sum_i wr_i if normalize)
void run_task_arithmetic(const Job& job) {
  const uint64_t n = job.n;
  const uint32_t M = job.n_models;
  const DType r = job.p->compute;
  float wsum = 0.f;
  for (uint32_t i = 0; i < M; ++i) wsum += job.wr[i];
  wsum = round_to(r, wsum);
  if (std::fabs(wsum) < 1e-8f) wsum = 1.f;  // mergekit: divisor[divisor.abs() < 1e-8] = 1
  const bool use_lambda = job.p->lambda != 1.0;
  const float lam = float(job.p->lambda);
  const uint64_t nc = n_chunks(n);
  const unsigned nw = job.pool->size();
  // per worker: dt, wd, acc
  std::vector<float> scratch(uint64_t(nw) * kTile * 3);
  // per chunk, per model: nnz(delta), nnz(weighted delta)  (integers; any merge order)
  std::vector<uint64_t> counts(job.stats ? mul_size(nc, uint64_t(M) * 2, "task_arithmetic stats") : 0);
  job.pool->parallel_for_worker(nc, [&](uint64_t c, unsigned w) {
    check_cancel(job.cancel);
    float* dt = scratch.data() + uint64_t(w) * kTile * 3;
    float* wd = dt + kTile;
    float* acc = wd + kTile;
    const uint64_t j1 = std::min(n, (c + 1) * kChunk);
    for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
      const uint64_t m = std::min(kTile, j1 - t0);
      const float* b = job.base + t0;
      std::fill(acc, acc + m, 0.f);
      for (uint32_t i = 0; i < M; ++i) {
        t_delta_trim(dt, job.models[i] + t0, b, m, r, 0);
        t_weigh_sum(wd, acc, dt, job.wr[i], m, r);
        if (job.stats) {
          counts[(c * M + i) * 2] += t_nnz(dt, m);
          counts[(c * M + i) * 2 + 1] += t_nnz(wd, m);
        }
      }
      if (job.out) {
        t_finish_scalar(acc, b, acc, wsum, m, r, job.p->normalize, use_lambda, lam);
        std::memcpy(job.out + t0, acc, m * sizeof(float));
      }
    }
  });
  if (job.stats) {
    for (uint32_t i = 0; i < M; ++i) {
      ModelTensorStats& ms = job.stats->models[i];
      ms.trimmed = false;
      ms.k = n;
      for (uint64_t c = 0; c < nc; ++c) {
        ms.nnz_trimmed += counts[(c * M + i) * 2];
        ms.n_contributing += counts[(c * M + i) * 2 + 1];
      }
    }
  }
}

}  // namespace ms::kern
