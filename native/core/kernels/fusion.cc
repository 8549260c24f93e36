// nearswap and arcee_fusion: a base model and exactly one other model, mixed
// element by element. Both run torch's op sequence in the compute dtype
// (kernels/reduce.h Mirror; plain float32 for float32 compute).
// Semantics: test/fixtures/golden/README.md "Method semantics"; docs/merge-methods.md.
#pragma GCC optimize("fp-contract=off", "vect-cost-model=dynamic")
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/common.h"
#include "kernels/kernels.h"
#include "kernels/reduce.h"

namespace ms::kern {

namespace {

// ============================================================== nearswap
//
// shape: base b [n], model x [n] -> out [n]
//   w = clamp(t / clamp(R(|R(b - x)|), min=1e-6), 0, 1)   (t / y = R(R(1 / y) * t))
//   out = R(R(w * x) + R(R(1 - w) * b))
// Statistics: n_selected = positions with w == 1 (out is the model's value).
template <class A>
void nearswap_impl(const Job& job, const A& a) {
  const uint64_t n = job.n;
  const float* b = job.base;
  const float* x = job.models[0];
  const float t = a.scalar_mul(job.p->t);
  const float lo = a.scalar_add(1e-6);  // clamp(min=1e-6) on a tensor of the dtype
  std::vector<uint64_t> swapped(n_chunks(n), 0);
  for_chunks(job, n, [&](uint64_t e0, uint64_t e1) {
    uint64_t sw = 0;
    float res[kTile];
    for (uint64_t t0 = e0; t0 < e1; t0 += kTile) {
      const uint64_t m = std::min(kTile, e1 - t0);
      const float* bt = b + t0;
      const float* xt = x + t0;
      for (uint64_t j = 0; j < m; ++j) {  // branch-free: vectorizes
        float y = a.r(std::fabs(a.r(bt[j] - xt[j])));
        y = y < lo ? lo : y;
        float w = a.r(a.r(1.f / y) * t);
        w = w < 0.f ? 0.f : w > 1.f ? 1.f : w;
        sw += w == 1.f;
        res[j] = a.r(a.r(w * xt[j]) + a.r(a.r(1.f - w) * bt[j]));
      }
      if (job.out) std::memcpy(job.out + t0, res, m * sizeof(float));  // out may alias an input
    }
    swapped[e0 / kChunk] = sw;
  });
  if (!job.stats) return;
  job.stats->has_selected = true;
  for (uint64_t s : swapped) job.stats->n_selected += s;
}

// ============================================================== arcee_fusion
//
// shape: base b [n], model x [n] -> out [n] (float32 values: mergekit returns
// float32 for 16-bit inputs); rows of the last dimension (a 1-D tensor is one row)
//   p = R(softmax(x) + 1e-8), q = R(softmax(b) + 1e-8)           per row
//   kl = R(sum_j R(p R(log R(p / q))))                             per row
//   imp = R(R(|R(x - b)|) * kl)
//   thr = R(med + R(1.5 R(q3 - q1))), each quantile the element at index
//         int(float32(q) * float32(n - 1)) of the ascending imp (whole tensor)
//   out = float32(b) + float32(R(x - b)) * (imp >= thr)
// softmax (torch CPU, last dim): e = exp(x - max), out = R(e * (1 / sum e)).
// mergekit samples 1e6 elements at random for the quantiles of larger
// tensors (not reproducible); this engine always uses every element.
// Statistics: n_selected = models[0].k = kept positions, threshold = thr.

// Ascending order with NaN last (torch.sort); -0 and +0 are equal.
inline bool ascending(float x, float y) { return (!std::isnan(x) && std::isnan(y)) || x < y; }

template <class A>
void softmax_row(const A& a, float* out, const float* x, uint64_t L, float eps_add) {
  float mx = x[0];
  for (uint64_t j = 1; j < L; ++j) mx = std::max(mx, x[j]);
  double s = 0;
  for (uint64_t j = 0; j < L; ++j) {
    out[j] = fexp(x[j] - mx);
    s += out[j];
  }
  const float inv = 1.f / float(s);
  for (uint64_t j = 0; j < L; ++j) out[j] = a.r(a.r(out[j] * inv) + eps_add);
}

template <class A>
void arcee_impl(const Job& job, const A& a) {
  const uint64_t n = job.n;
  const float* b = job.base;
  const float* x = job.models[0];
  const uint64_t L = job.p->row_len ? job.p->row_len : n;
  const uint64_t rows = n / L;
  const float eps_add = a.scalar_add(1e-8);
  // KL divergence of each row (rows in parallel, each summed in a fixed order)
  std::vector<float> kl(rows);
  const uint64_t rows_per_task = std::max<uint64_t>(1, kChunk / L);
  job.pool->parallel_for(rows / rows_per_task + (rows % rows_per_task != 0), [&](uint64_t task) {
    check_cancel(job.cancel);
    std::vector<float> p(L), q(L);
    for (uint64_t r = task * rows_per_task; r < std::min(rows, (task + 1) * rows_per_task); ++r) {
      softmax_row(a, p.data(), x + r * L, L, eps_add);
      softmax_row(a, q.data(), b + r * L, L, eps_add);
      double lanes[4] = {0, 0, 0, 0};
      for (uint64_t j = 0; j < L; ++j) lanes[j & 3] += double(a.r(p[j] * a.r(flog(a.r(p[j] / q[j])))));
      kl[r] = a.sum((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]));
    }
  });
  auto imp = [&](uint64_t e) { return a.r(a.r(std::fabs(a.r(x[e] - b[e]))) * kl[e / L]); };
  // quantiles: order statistics of imp (their values do not depend on how ties are ordered)
  float* sorted = job.scratch->array<float>(0, n);
  for_chunks(job, n, [&](uint64_t e0, uint64_t e1) {
    for (uint64_t e = e0; e < e1; ++e) sorted[e] = imp(e);
  });
  auto quantile = [&](double q) {
    const uint64_t idx = std::min<uint64_t>(uint64_t(float(q) * float(n - 1)), n - 1);  // float32 product, .long()
    std::nth_element(sorted, sorted + idx, sorted + n, ascending);
    return sorted[idx];
  };
  const float med = quantile(0.5), q1 = quantile(0.25), q3 = quantile(0.75);
  const float thr = a.r(med + a.r(a.scalar_mul(1.5) * a.r(q3 - q1)));
  std::vector<uint64_t> kept(n_chunks(n), 0), nnz(n_chunks(n), 0);
  for_chunks(job, n, [&](uint64_t e0, uint64_t e1) {
    uint64_t k = 0, z = 0;
    for (uint64_t e = e0; e < e1; ++e) {
      const bool keep = imp(e) >= thr;
      const float d = a.r(x[e] - b[e]);
      k += keep;
      z += keep && d != 0.f;
      if (job.out) job.out[e] = b[e] + (keep ? d : d * 0.f);  // float32 add: the result is not rounded to the dtype
    }
    kept[e0 / kChunk] = k;
    nnz[e0 / kChunk] = z;
  });
  if (!job.stats) return;
  TensorStats& ts = *job.stats;
  ts.has_selected = true;
  ModelTensorStats& m = ts.models[0];
  for (uint64_t c = 0; c < kept.size(); ++c) {
    ts.n_selected += kept[c];
    m.nnz_trimmed += nnz[c];
  }
  m.trimmed = true;
  m.k = ts.n_selected;
  m.n_contributing = m.nnz_trimmed;
  m.threshold_valid = true;
  m.threshold = thr;
}

}  // namespace

void run_nearswap(const Job& job) {
  if (job.n == 0) return;
  with_mirror(job.p->compute, [&](auto a) { nearswap_impl(job, a); });
}

void run_arcee_fusion(const Job& job) {
  if (job.n == 0) return;
  with_mirror(job.p->compute, [&](auto a) { arcee_impl(job, a); });
}

}  // namespace ms::kern
