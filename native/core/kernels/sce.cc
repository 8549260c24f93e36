// sce (mergekit 0.1.4 `sce`): a variance top-k trim shared by all models, the
// sum sign election, and per-model weights from the task vectors' energy.
//
// shape: base b [n], models x_i [n] (i < N, recipe order) -> out [n]
//   tv_i  = R(x_i - b)
//   select_topk < 1: var = R(population variance over i of tv_i) per position;
//        k = int(float32(count_nonzero(var) * select_topk)); the k positions of
//        largest var are kept (torch.topk's order, below), the others zeroed
//   maj   = R(sum_i tv_i) >= 0 ? +1 : -1;  e_i = sign(tv_i) == maj
//   w_i   = R(R(sum_j R(tv_i[j]^2)) / n);  s = R(sum_i w_i);  w_i = |s| < 1e-6 ? R(1/N) : R(w_i / s)
//   out   = R(b + R(R(sum_i R(tv_i * w_i e_i)) / max(R(sum_i w_i e_i), 1e-6)))
// R() rounds to the compute dtype (the identity for float32 compute); sums
// over models accumulate in float32 in model order and round once; sums over
// elements accumulate in float64 (kernels/reduce.h order) and round once.
//
// Top-k order: torch.topk on CPU keeps queue[0..k) of (value, index) pairs
// after std::partial_sort (64k <= n) or std::nth_element (else) with the
// comparator "a > b, NaN first". Which of several equal variances at the
// threshold are kept therefore follows libstdc++'s heap-select / introselect,
// ported below (GCC 12/13 bits/stl_algo.h, stl_heap.h). It is only run when
// some but not all threshold ties are kept (or NaN is involved); otherwise
// the kept set is every position with var >= the k-th largest value.
//
// Passes: variance keys (one read), O(n) radix select (topk.h), optionally
// the tie-order port, the weights (one read), the output + statistics (one read).
#pragma GCC optimize("fp-contract=off")
#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/common.h"
#include "kernels/kernels.h"
#include "kernels/reduce.h"
#include "kernels/tile_ops.h"
#include "topk.h"

namespace ms::kern {

namespace {

// ---------------------------------------------------------------- torch.topk's kept set
// libstdc++ heap-select / introselect over (value, index) pairs with the
// comparator "x before y" = (isnan(x) && !isnan(y)) || x > y. Only the
// comparisons and moves matter, so the index type is irrelevant.

struct Elem {
  float v;
  uint32_t i;
};

inline bool before(const Elem& x, const Elem& y) {
  const bool xn = std::isnan(x.v), yn = std::isnan(y.v);
  return (xn && !yn) || x.v > y.v;
}

void push_heap(Elem* first, int64_t hole, int64_t top, Elem value) {
  int64_t parent = (hole - 1) / 2;
  while (hole > top && before(first[parent], value)) {
    first[hole] = first[parent];
    hole = parent;
    parent = (hole - 1) / 2;
  }
  first[hole] = value;
}

void adjust_heap(Elem* first, int64_t hole, int64_t len, Elem value) {
  const int64_t top = hole;
  int64_t child = hole;
  while (child < (len - 1) / 2) {
    child = 2 * (child + 1);
    if (before(first[child], first[child - 1])) --child;
    first[hole] = first[child];
    hole = child;
  }
  if ((len & 1) == 0 && child == (len - 2) / 2) {
    child = 2 * (child + 1);
    first[hole] = first[child - 1];
    hole = child - 1;
  }
  push_heap(first, hole, top, value);
}

void make_heap(Elem* first, Elem* last) {
  const int64_t len = last - first;
  if (len < 2) return;
  for (int64_t parent = (len - 2) / 2;; --parent) {
    adjust_heap(first, parent, len, first[parent]);
    if (parent == 0) return;
  }
}

void heap_select(Elem* first, Elem* middle, Elem* last) {
  make_heap(first, middle);
  for (Elem* i = middle; i < last; ++i)
    if (before(*i, *first)) {  // __pop_heap(first, middle, i)
      const Elem value = *i;
      *i = *first;
      adjust_heap(first, 0, middle - first, value);
    }
}

void insertion_sort(Elem* first, Elem* last) {
  if (first == last) return;
  for (Elem* i = first + 1; i != last; ++i) {
    const Elem val = *i;
    if (before(val, *first)) {
      std::memmove(first + 1, first, size_t(i - first) * sizeof(Elem));
      *first = val;
    } else {
      Elem* hole = i;
      for (Elem* next = i - 1; before(val, *next); --next) {
        *hole = *next;
        hole = next;
      }
      *hole = val;
    }
  }
}

void move_median_to_first(Elem* result, Elem* a, Elem* b, Elem* c) {
  if (before(*a, *b)) {
    if (before(*b, *c)) std::swap(*result, *b);
    else if (before(*a, *c)) std::swap(*result, *c);
    else std::swap(*result, *a);
  } else if (before(*a, *c)) std::swap(*result, *a);
  else if (before(*b, *c)) std::swap(*result, *c);
  else std::swap(*result, *b);
}

Elem* unguarded_partition(Elem* first, Elem* last, Elem* pivot) {
  for (;;) {
    while (before(*first, *pivot)) ++first;
    --last;
    while (before(*pivot, *last)) --last;
    if (!(first < last)) return first;
    std::swap(*first, *last);
    ++first;
  }
}

void introselect(Elem* first, Elem* nth, Elem* last, int64_t depth) {
  while (last - first > 3) {
    if (depth == 0) {
      heap_select(first, nth + 1, last);
      std::swap(*first, *nth);  // the nth element in its final place
      return;
    }
    --depth;
    Elem* mid = first + (last - first) / 2;
    move_median_to_first(first, first + 1, mid, last - 1);
    Elem* cut = unguarded_partition(first + 1, last, first);
    if (cut <= nth) first = cut;
    else last = cut;
  }
  insertion_sort(first, last);
}

int64_t floor_log2(uint64_t n) { return 63 - __builtin_clzll(n); }

// keep[j] = 1 for the k positions torch.topk(values, k, largest=True) returns.
void torch_topk_mask(uint8_t* keep, const float* values, uint64_t n, uint64_t k) {
  if (n > UINT32_MAX) throw MergeError(ErrorCode::INTERNAL, "sce: tensor too large for the top-k tie order");
  std::vector<Elem> q(n);
  for (uint64_t j = 0; j < n; ++j) q[j] = {values[j], uint32_t(j)};
  Elem* first = q.data();
  if (k * 64 <= n) heap_select(first, first + k, first + n);                          // std::partial_sort
  else introselect(first, first + (k - 1), first + n, 2 * floor_log2(n));            // std::nth_element
  std::memset(keep, 0, n);
  for (uint64_t j = 0; j < k; ++j) keep[q[j].i] = 1;
}

// ---------------------------------------------------------------- the trim

enum class Keep : uint8_t { All, None, Threshold, Mask };

struct SceTrim {
  Keep mode = Keep::All;
  uint64_t k = 0;
  TopkSelect sel;
  uint32_t T = 0;             // Threshold: keep iff variance key >= T
  std::vector<uint8_t> mask;  // Mask: torch's kept set
  bool kept(const uint32_t* keys, uint64_t e) const {
    switch (mode) {
      case Keep::All: return true;
      case Keep::None: return false;
      case Keep::Threshold: return keys[e] >= T;
      case Keep::Mask: return mask[e] != 0;
    }
    return true;
  }
};

// Population variance over the models (float64, two-pass over the N values), rounded to the dtype.
template <class A>
float variance(const A& a, const Job& job, uint64_t e) {
  const uint32_t N = job.n_models;
  double mean = 0;
  for (uint32_t i = 0; i < N; ++i) mean += double(a.r(job.models[i][e] - job.base[e]));
  mean /= N;
  double m2 = 0;
  for (uint32_t i = 0; i < N; ++i) {
    const double d = double(a.r(job.models[i][e] - job.base[e])) - mean;
    m2 += d * d;
  }
  return a.sum(m2 / N);
}

template <class A>
SceTrim plan_trim(const Job& job, const A& a, std::vector<uint32_t>* keys) {
  SceTrim tr;
  const double topk = job.p->select_topk;
  const uint64_t n = job.n;
  if (topk >= 1) return tr;
  if (topk <= 0) {
    tr.mode = Keep::None;
    return tr;
  }
  keys->resize(n);
  std::vector<uint64_t> nz(n_chunks(n), 0), nan(n_chunks(n), 0);
  for_chunks(job, n, [&](uint64_t e0, uint64_t e1) {
    uint64_t z = 0, nn = 0;
    for (uint64_t e = e0; e < e1; ++e) {
      const float v = variance(a, job, e);
      (*keys)[e] = mag_key(v);
      z += v != 0.f;  // count_nonzero (NaN counts)
      nn += std::isnan(v);
    }
    nz[e0 / kChunk] = z;
    nan[e0 / kChunk] = nn;
  });
  uint64_t nonzero = 0, n_nan = 0;
  for (uint64_t c = 0; c < nz.size(); ++c) {
    nonzero += nz[c];
    n_nan += nan[c];
  }
  // k = int(count_nonzero(var) * select_topk): an int64 0-dim tensor times a
  // Python float is a float32 tensor (sce_f32_2models_topk0.29_kquirk: 29 of 100).
  const float prod = float(nonzero) * float(topk);
  tr.k = std::min<uint64_t>(uint64_t(prod), n);
  if (tr.k == 0) {
    tr.mode = Keep::None;
    return tr;
  }
  tr.sel = topk_select(keys->data(), n, tr.k, /*largest=*/true, *job.pool);
  tr.T = tr.sel.threshold;
  const bool partial_ties = tr.sel.n_kept_at_threshold < tr.sel.n_equal;
  if (!partial_ties && n_nan == 0) {
    tr.mode = Keep::Threshold;
    return tr;
  }
  // torch's tie order decides which threshold ties are kept
  std::vector<float> var(n);
  for_chunks(job, n, [&](uint64_t e0, uint64_t e1) {
    for (uint64_t e = e0; e < e1; ++e) var[e] = f32_from_bits((*keys)[e]);  // var >= 0: the key is its bits
  });
  tr.mask.resize(n);
  torch_topk_mask(tr.mask.data(), var.data(), n, tr.k);
  tr.mode = Keep::Mask;
  return tr;
}

struct ChunkStats {
  std::vector<ModelTileStats> m;
  TensorTileStats t;
};

template <class A>
void sce_impl(const Job& job, const A& a) {
  const uint64_t n = job.n;
  const uint32_t N = job.n_models;
  std::vector<uint32_t> keys;
  const SceTrim trim = plan_trim(job, a, &keys);
  const uint32_t* kp = keys.data();
  auto tvm = [&](uint32_t i, uint64_t e) {
    const float tv = a.r(job.models[i][e] - job.base[e]);
    return trim.kept(kp, e) ? tv : tv * 0.f;  // tv * mask
  };

  // Per-model weights: mean(tv^2) as torch computes it (sum in the dtype, then / numel).
  const VecLayout whole{1, n, false};
  const std::vector<double> sq = vector_sums(job, whole, N, [&](uint64_t e, uint64_t, double* acc) {
    for (uint32_t i = 0; i < N; ++i) {
      const float x = tvm(i, e);
      acc[i] += double(a.r(x * x));
    }
  });
  std::vector<float> w(N);
  float wsum = 0.f;
  for (uint32_t i = 0; i < N; ++i) {
    w[i] = a.r(a.sum(sq[i]) / float(n));
    wsum += w[i];
  }
  const double ws = double(a.r(wsum));  // torch.sum(weights).item()
  for (uint32_t i = 0; i < N; ++i) w[i] = std::fabs(ws) < 1e-6 ? a.r(1.f / float(N)) : a.r(w[i] / float(ws));
  const float den_min = a.scalar_add(1e-6);

  const uint64_t nc = n_chunks(n);
  std::vector<ChunkStats> cs(job.stats ? nc : 0);
  for_chunks(job, n, [&](uint64_t e0, uint64_t e1) {
    ChunkStats* st = job.stats ? &cs[e0 / kChunk] : nullptr;
    if (st) st->m.assign(N, ModelTileStats{});
    float tv[64];
    bool contrib[64];
    for (uint64_t e = e0; e < e1; ++e) {
      float s = 0.f;
      bool pos = false, neg = false;
      for (uint32_t i = 0; i < N; ++i) {
        tv[i] = tvm(i, e);
        s += tv[i];
        pos |= tv[i] > 0.f;
        neg |= tv[i] < 0.f;
      }
      const float maj = a.r(s) >= 0.f ? 1.f : -1.f;  // NaN -> -1, like torch's (NaN >= 0) == false
      float num = 0.f, den = 0.f;
      bool any = false;
      for (uint32_t i = 0; i < N; ++i) {
        const float sg = tv[i] > 0.f ? 1.f : tv[i] < 0.f ? -1.f : 0.f;
        contrib[i] = sg == maj;
        const float ew = contrib[i] ? w[i] : 0.f;
        num += a.r(tv[i] * ew);
        den += ew;
        any |= contrib[i];
      }
      if (job.out) {
        float d = a.r(den);
        if (d < den_min) d = den_min;  // clamp(min=1e-6); NaN stays NaN
        job.out[e] = a.r(job.base[e] + a.r(a.r(num) / d));
      }
      if (st) {
        const bool conflict = pos && neg;
        st->t.sign_conflicts += conflict;
        st->t.no_contributor += !any;
        st->t.majority_negative += maj < 0.f;
        for (uint32_t i = 0; i < N; ++i) {
          ModelTileStats& m = st->m[i];
          const bool nz = tv[i] != 0.f;
          m.nnz += nz;
          m.contributing += contrib[i];
          if (nz && !contrib[i]) {
            ++m.discarded;
            m.l1_discarded += std::fabs(double(tv[i]));
          }
          if (conflict && nz) {
            ++m.in_conflict;
            m.conflicts_won += contrib[i];
          }
        }
      }
    }
  });
  if (!job.stats) return;
  TensorStats& ts = *job.stats;
  for (const ChunkStats& c : cs) {  // chunk order: the float64 L1 sums are deterministic
    ts.sign_conflicts += c.t.sign_conflicts;
    ts.n_positions_no_contributor += c.t.no_contributor;
    ts.n_majority_negative += c.t.majority_negative;
    for (uint32_t i = 0; i < N; ++i) {
      ModelTensorStats& m = ts.models[i];
      m.nnz_trimmed += c.m[i].nnz;
      m.n_contributing += c.m[i].contributing;
      m.n_discarded_by_sign_election += c.m[i].discarded;
      m.l1_discarded_by_sign_election += c.m[i].l1_discarded;
      m.in_conflict += c.m[i].in_conflict;
      m.conflicts_won += c.m[i].conflicts_won;
    }
  }
  for (uint32_t i = 0; i < N; ++i) {
    ModelTensorStats& m = ts.models[i];
    m.trimmed = trim.mode != Keep::All;
    m.k = trim.mode == Keep::All ? n : trim.mode == Keep::None ? 0 : trim.k;
    m.threshold_valid = trim.mode == Keep::Threshold || trim.mode == Keep::Mask;
    if (m.threshold_valid) {
      m.threshold = f32_from_bits(trim.sel.threshold);
      m.n_greater_than_threshold = trim.sel.n_beyond;
      m.n_equal_to_threshold = trim.sel.n_equal;
      m.n_kept_at_threshold = trim.sel.n_kept_at_threshold;
    }
  }
}

}  // namespace

void run_sce(const Job& job) {
  if (job.n == 0) return;
  with_mirror(job.p->compute, [&](auto a) { sce_impl(job, a); });
}

}  // namespace ms::kern
