// See random_trim.h.
#include "kernels/random_trim.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "errors.h"
#include "grow_buffer.h"
#include "kernels/common.h"
#include "kernels/introsort.h"
#include "kernels/torch_sum.h"
#include "topk.h"

namespace ms::kern {

namespace {

DType work_dtype(DType compute) { return compute == DType::BF16 ? DType::BF16 : DType::F32; }

uint64_t* bit_storage(GrowBuffer* buf, uint64_t n, StreamMask* out) {
  const uint64_t words = (n + 63) / 64;
  uint64_t* bits;
  if (buf) {
    bits = buf->ensure_n<uint64_t>(words);
  } else {
    out->own.assign(words ? words : 1, 0);
    bits = out->own.data();
  }
  std::memset(bits, 0, words * sizeof(uint64_t));
  out->bits = bits;
  return bits;
}

// n draws: bit j = (o_j & 0xFFFFFF) < limit(j).
template <class Limit>
void draw(Mt19937& mt, uint64_t n, uint64_t* bits, const Limit& limit, StreamMask* out, const std::atomic<bool>* cancel) {
  out->first_draw = mt.drawn();
  out->draws = n;
  uint32_t o[kTile];
  uint64_t kept = 0;
  for (uint64_t j0 = 0; j0 < n; j0 += kTile) {
    if ((j0 & (kChunk - 1)) == 0) check_cancel(cancel);
    const uint64_t m = std::min(kTile, n - j0);
    mt.fill(o, m);
    for (uint64_t j = 0; j < m; ++j) {
      const uint64_t keep = mt_keeps(o[j], limit(j0 + j));
      bits[(j0 + j) >> 6] |= keep << ((j0 + j) & 63);
      kept += keep;
    }
  }
  out->kept = kept;
  out->active = true;
}

// mergekit's rescaled_masked_tensor with the l1 norm, in W: sums of |delta|
// and of |kept delta| in torch's order, each rounded to W; no rescale if
// either is below eps (1e-7 rounded to W, as torch compares them).
void rescale(const Job& job, uint32_t model, StreamMask* m) {
  if (!job.p->rescale) return;
  const DType c = job.p->compute, W = work_dtype(c);
  const float* x = job.models[model];
  const float* b = job.base;
  const uint64_t* bits = m->bits;
  const bool bf16 = W == DType::BF16;
  const float before = torch_sum(job.n, bf16, [&](uint64_t j) { return std::fabs(round_to(c, x[j] - b[j])); });
  const float after = torch_sum(job.n, bf16, [&](uint64_t j) {
    return (bits[j >> 6] >> (j & 63)) & 1 ? std::fabs(round_to(c, x[j] - b[j])) : 0.f;
  });
  const float sb = round_to(W, before), sa = round_to(W, after), eps = round_to(W, float(1e-7));
  if (sb < eps || sa < eps) return;
  m->scale = true;
  m->ratio = round_to(W, sb / sa);
}

}  // namespace

void stream_bernoulli(const Job& job, uint32_t model, double density, Mt19937& mt, GrowBuffer* bits_buf,
                      StreamMask* out) {
  const DType W = work_dtype(job.p->compute);
  const float p = round_to(W, float(density));  // full_like(delta, density, dtype=W)
  const uint32_t limit = keep_limit(p);
  uint64_t* bits = bit_storage(bits_buf, job.n, out);
  draw(mt, job.n, bits, [limit](uint64_t) { return limit; }, out, job.cancel);
  out->p_min = out->p_max = p;
  rescale(job, model, out);
}

void stream_della(const Job& job, uint32_t model, double density, double epsilon, Mt19937& mt, GrowBuffer* bits_buf,
                  GrowBuffer* limits_buf, StreamMask* out) {
  const uint64_t n = job.n;
  const DType c = job.p->compute, W = work_dtype(c);
  const uint64_t R = (job.p->row_len > 0 && n % job.p->row_len == 0) ? job.p->row_len : n;
  if (n == 0) throw MergeError(ErrorCode::INTERNAL, "della: empty tensors are handled by the caller (nothing to draw)");
  if (R > 0xffffffffu)
    throw MergeError(ErrorCode::RECIPE_INVALID, "della: rows longer than 2^32 elements are not supported");
  if (n > 0 && R < 2)
    throw MergeError(ErrorCode::RECIPE_INVALID,
                     "della: the tensor's rows have one element, so mergekit's rank normalisation divides by zero; "
                     "exclude this tensor or use another method");
  const uint64_t rows = n ? n / R : 0;
  std::vector<uint32_t> own_limits;
  uint32_t* limits = limits_buf ? limits_buf->ensure_n<uint32_t>(n) : (own_limits.resize(n), own_limits.data());
  const float* x = job.models[model];
  const float* b = job.base;
  const bool index_rule = job.p->tie_order == TieOrder::Index;
  // Scalars as torch applies them to a W tensor: `s + t` rounds s to W first; `t * s` uses float32(s).
  const float low = round_to(W, float(density - epsilon));
  const float eps = float(epsilon);
  const unsigned nw = job.pool->size();
  std::vector<std::vector<uint64_t>> work(nw);      // (key << 32 | index in row) per worker
  std::vector<float> pmin(nw, INFINITY), pmax(nw, -INFINITY);
  const uint64_t rows_per_task = std::max<uint64_t>(1, kChunk / R);
  job.pool->parallel_for_worker((rows + rows_per_task - 1) / rows_per_task, [&](uint64_t task, unsigned w) {
    check_cancel(job.cancel);
    std::vector<uint64_t>& v = work[w];
    v.resize(R);
    const uint64_t r1 = std::min(rows, (task + 1) * rows_per_task);
    for (uint64_t r = task * rows_per_task; r < r1; ++r) {
      const uint64_t j0 = r * R;
      for (uint64_t q = 0; q < R; ++q) v[q] = (uint64_t(mag_key(round_to(c, x[j0 + q] - b[j0 + q]))) << 32) | q;
      // torch.argsort(|delta|, dim=1): ascending, equal magnitudes in introsort order (or by index)
      if (index_rule) std::sort(v.begin(), v.end());
      else introsort::sort(v.data(), v.data() + R, [](uint64_t a, uint64_t bb) { return (a >> 32) < (bb >> 32); });
      // ranks = argsort.argsort().to(W) + 1; rank_norm = (ranks - min) / (max - min), clamped to [0, 1]
      const float rmin = round_to(W, round_to(W, 0.f) + 1.f);
      const float rmax = round_to(W, round_to(W, float(R - 1)) + 1.f);
      const float den = round_to(W, rmax - rmin);
      for (uint64_t q = 0; q < R; ++q) {
        const float rank = round_to(W, round_to(W, float(q)) + 1.f);
        float rn = round_to(W, round_to(W, rank - rmin) / den);
        rn = std::min(1.f, std::max(0.f, rn));
        const float p = round_to(W, low + round_to(W, round_to(W, rn * 2.f) * eps));
        limits[j0 + (v[q] & 0xffffffffu)] = keep_limit(p);
        pmin[w] = std::min(pmin[w], p);
        pmax[w] = std::max(pmax[w], p);
      }
    }
  });
  uint64_t* bits = bit_storage(bits_buf, n, out);
  draw(mt, n, bits, [limits](uint64_t j) { return limits[j]; }, out, job.cancel);
  out->p_min = *std::min_element(pmin.begin(), pmin.end());
  out->p_max = *std::max_element(pmax.begin(), pmax.end());
  rescale(job, model, out);
}

}  // namespace ms::kern
