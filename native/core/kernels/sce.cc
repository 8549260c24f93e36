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
#pragma GCC optimize("fp-contract=off", "vect-cost-model=dynamic")
#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/common.h"
#include "kernels/kernels.h"
#include "kernels/reduce.h"
#include "kernels/simd.h"
#include "kernels/tile_ops.h"
#include "topk.h"

namespace ms::kern {

namespace {

// ---------------------------------------------------------------- torch.topk's kept set
// libstdc++ heap-select / introselect over (value, index) pairs with the
// comparator "x before y" = (isnan(x) && !isnan(y)) || x > y. Only the
// comparisons and moves matter, so the index type is irrelevant. The values
// are non-negative floats (variances): their bits order like the floats, and
// every NaN becomes one key above +inf, so "before" is an integer compare.

struct Elem {
  uint32_t key;
  uint32_t i;
};

inline bool before(const Elem& x, const Elem& y) { return x.key > y.key; }

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

// The k positions torch.topk(values, k, largest=True) returns, where the
// values are the non-negative floats whose bits are keys[] (sce's variances):
// on return keys[j] is 1 for a kept position, 0 otherwise. q: n elements of scratch.
void torch_topk_mask(const Job& job, uint32_t* keys, Elem* q, uint64_t n, uint64_t k) {
  if (n > UINT32_MAX) throw MergeError(ErrorCode::INTERNAL, "sce: tensor too large for the top-k tie order");
  for_chunks(job, n, [&](uint64_t e0, uint64_t e1) {
    for (uint64_t j = e0; j < e1; ++j) q[j] = {keys[j] > 0x7f800000u ? 0x7fc00000u : keys[j], uint32_t(j)};  // NaNs: all equal
  });
  // The selection itself is sequential (its moves decide which ties are kept).
  if (k * 64 <= n) heap_select(q, q + k, q + n);                                   // std::partial_sort
  else introselect(q, q + (k - 1), q + n, 2 * floor_log2(n));                       // std::nth_element
  check_cancel(job.cancel);
  for_chunks(job, n, [&](uint64_t e0, uint64_t e1) { std::memset(keys + e0, 0, (e1 - e0) * sizeof(uint32_t)); });
  for (uint64_t j = 0; j < k; ++j) keys[q[j].i] = 1;
}

// ---------------------------------------------------------------- the trim

enum class Keep : uint8_t { All, None, Threshold, Mask };

struct SceTrim {
  Keep mode = Keep::All;
  uint64_t k = 0;
  TopkSelect sel;
  const uint32_t* keys = nullptr;  // Threshold: variance keys; Mask: 1 = kept (torch's set)
  uint32_t T = 0;                  // kept iff keys[j] >= T (Mask: T = 1)
};

// Per-worker tile scratch: N task-vector tiles and the per-position work arrays.
struct Tiles {
  std::vector<float> f;
  std::vector<double> d;
  uint32_t N = 0;
  void init(uint32_t n_models) {
    N = n_models;
    f.assign(uint64_t(N + 7) * kTile, 0.f);
    d.assign(2 * kTile, 0.0);
  }
  float* tv(uint32_t i) { return f.data() + uint64_t(i) * kTile; }
  float* extra(uint32_t e) { return f.data() + uint64_t(N + e) * kTile; }
};

// ---- tile loops, compiled per ISA (simd.h: bit-identical variants; single IEEE ops only)

// mask[j] = keys[j] >= T ? 1 : 0
MS_CLONES void mask_tile(float* __restrict mask, const uint32_t* __restrict keys, uint32_t T, uint64_t m) {
  for (uint64_t j = 0; j < m; ++j) mask[j] = keys[j] >= T ? 1.f : 0.f;
}

// tv[j] *= mask[j]   (torch: tv * mask; a dropped negative entry becomes -0)
MS_CLONES void apply_mask(float* __restrict tv, const float* __restrict mask, uint64_t m) {
  for (uint64_t j = 0; j < m; ++j) tv[j] = tv[j] * mask[j];
}

// keys[j] = bits of R(population variance of the N task vectors at j), float64 two-pass;
// returns how many variances are non-zero (NaN counts, as count_nonzero); *n_nan += NaNs.
template <DType D>
MS_CLONES uint64_t variance_tile(uint32_t* __restrict keys, const float* tvs, uint32_t N, double* __restrict mean,
                                 double* __restrict m2, uint64_t m, uint64_t* n_nan) {
  const Mirror<D> a;
  for (uint64_t j = 0; j < m; ++j) mean[j] = 0;
  for (uint32_t i = 0; i < N; ++i) {
    const float* tv = tvs + uint64_t(i) * kTile;
    for (uint64_t j = 0; j < m; ++j) mean[j] += double(tv[j]);
  }
  for (uint64_t j = 0; j < m; ++j) {
    mean[j] /= N;
    m2[j] = 0;
  }
  for (uint32_t i = 0; i < N; ++i) {
    const float* tv = tvs + uint64_t(i) * kTile;
    for (uint64_t j = 0; j < m; ++j) {
      const double d = double(tv[j]) - mean[j];
      m2[j] += d * d;
    }
  }
  uint64_t nz = 0, nn = 0;
  for (uint64_t j = 0; j < m; ++j) {
    const float v = a.r(float(m2[j] / N));
    keys[j] = mag_key(v);
    nz += v != 0.f;
    nn += v != v;
  }
  *n_nan += nn;
  return nz;
}

// The election and the weighted mix of one tile (tvs: N task-vector tiles, kTile apart):
// maj = R(sum tv) >= 0 ? +1 : -1;  c_i = sign(tv_i) == maj;  nc = #c_i;
// res = R(b + R(R(sum R(tv_i * (c_i ? w_i : 0))) / max(R(sum (c_i ? w_i : 0)), den_min)))
template <DType D>
MS_CLONES void mix_tile(float* __restrict res, float* __restrict maj, float* __restrict nc, float* __restrict s,
                        float* __restrict num, float* __restrict den, const float* tvs, const float* w, uint32_t N,
                        const float* __restrict b, float den_min, uint64_t m) {
  const Mirror<D> a;
  for (uint64_t j = 0; j < m; ++j) s[j] = num[j] = den[j] = nc[j] = 0.f;
  for (uint32_t i = 0; i < N; ++i) {
    const float* tv = tvs + uint64_t(i) * kTile;
    for (uint64_t j = 0; j < m; ++j) s[j] += tv[j];  // float32, model order
  }
  // NaN -> -1, like torch's (NaN >= 0) == false
  for (uint64_t j = 0; j < m; ++j) maj[j] = a.r(s[j]) >= 0.f ? 1.f : -1.f;
  for (uint32_t i = 0; i < N; ++i) {
    const float* tv = tvs + uint64_t(i) * kTile;
    const float wi = w[i];
    for (uint64_t j = 0; j < m; ++j) {
      const float c = tv[j] * maj[j] > 0.f ? 1.f : 0.f;  // sign(tv) == maj (0 and NaN never)
      const float ew = c * wi;
      num[j] += a.r(tv[j] * ew);
      den[j] += ew;
      nc[j] += c;
    }
  }
  if (!res) return;
  for (uint64_t j = 0; j < m; ++j) {
    float d = a.r(den[j]);
    d = d < den_min ? den_min : d;  // clamp(min=1e-6); NaN stays NaN
    res[j] = a.r(b[j] + a.r(a.r(num[j]) / d));
  }
}

// tv_i = R(x_i - b) over one tile, for every model; zeroed (tv * 0, keeping torch's -0)
// where the trim drops the position.
template <class A>
void task_vectors(const A&, Tiles& W, const Job& job, const SceTrim& tr, uint64_t t0, uint64_t m) {
  const float* b = job.base + t0;
  float* mask = W.extra(6);
  if (tr.mode == Keep::None) std::memset(mask, 0, m * sizeof(float));
  else if (tr.mode != Keep::All) mask_tile(mask, tr.keys + t0, tr.T, m);
  for (uint32_t i = 0; i < W.N; ++i) {
    float* tv = W.tv(i);
    t_delta_trim(tv, job.models[i] + t0, b, m, A::dtype, 0);  // R(x - b), vectorized (tile_ops.h)
    if (tr.mode != Keep::All) apply_mask(tv, mask, m);
  }
}

template <class A>
SceTrim plan_trim(const Job& job, const A& a) {
  SceTrim tr;
  const double topk = job.p->select_topk;
  const uint64_t n = job.n;
  if (topk >= 1) return tr;
  if (topk <= 0) {
    tr.mode = Keep::None;
    return tr;
  }
  uint32_t* keys = job.scratch->array<uint32_t>(0, n);
  const uint64_t nc = n_chunks(n);
  std::vector<uint64_t> nz(nc, 0), nan(nc, 0);
  std::vector<Tiles> tiles(job.pool->size());
  job.pool->parallel_for_worker(nc, [&](uint64_t c, unsigned w) {
    check_cancel(job.cancel);
    Tiles& W = tiles[w];
    if (W.N == 0) W.init(job.n_models);
    const uint64_t j1 = std::min(n, (c + 1) * kChunk);
    for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
      const uint64_t m = std::min(kTile, j1 - t0);
      task_vectors(a, W, job, tr, t0, m);  // tr: keep all
      nz[c] += variance_tile<A::dtype>(keys + t0, W.tv(0), W.N, W.d.data(), W.d.data() + kTile, m, &nan[c]);
    }
  });
  uint64_t nonzero = 0, n_nan = 0;
  for (uint64_t c = 0; c < nc; ++c) {
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
  tr.sel = topk_select(keys, n, tr.k, /*largest=*/true, *job.pool);
  tr.keys = keys;
  const bool partial_ties = tr.sel.n_kept_at_threshold < tr.sel.n_equal;
  if (!partial_ties && n_nan == 0) {
    tr.mode = Keep::Threshold;
    tr.T = tr.sel.threshold;
    return tr;
  }
  // torch's tie order decides which threshold ties are kept
  check_cancel(job.cancel);
  torch_topk_mask(job, keys, job.scratch->array<Elem>(1, n), n, tr.k);
  tr.mode = Keep::Mask;
  tr.T = 1;
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
  const SceTrim trim = plan_trim(job, a);
  std::vector<Tiles> tiles(job.pool->size());
  auto worker_tiles = [&](unsigned w) -> Tiles& {
    if (tiles[w].N == 0) tiles[w].init(N);
    return tiles[w];
  };

  // Per-model weights: mean(tv^2) as torch computes it (sum in the dtype, then / numel).
  const std::vector<double> sq = tile_sums(job, n, N, [&](uint64_t t0, uint64_t m, double* sums, unsigned wk) {
    Tiles& W = worker_tiles(wk);
    task_vectors(a, W, job, trim, t0, m);
    float* sqr = W.extra(0);
    for (uint32_t i = 0; i < N; ++i) {
      const float* tv = W.tv(i);
      for (uint64_t j = 0; j < m; ++j) sqr[j] = a.r(tv[j] * tv[j]);
      sums[i] = lane_sum(sqr, m);
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
  job.pool->parallel_for_worker(nc, [&](uint64_t c, unsigned wk) {
    check_cancel(job.cancel);
    Tiles& W = worker_tiles(wk);
    ChunkStats* st = job.stats ? &cs[c] : nullptr;
    if (st) st->m.assign(N, ModelTileStats{});
    float* s = W.extra(0);
    float* maj = W.extra(1);
    float* num = W.extra(2);
    float* den = W.extra(3);
    float* pos = W.extra(4);
    float* neg = W.extra(5);
    const uint64_t j1 = std::min(n, (c + 1) * kChunk);
    for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
      const uint64_t m = std::min(kTile, j1 - t0);
      task_vectors(a, W, job, trim, t0, m);
      // num/den/s are scratch here; nc (contributors per position) goes to the statistics
      float res[kTile];
      mix_tile<A::dtype>(job.out ? res : nullptr, maj, pos /* nc */, s, num, den, W.tv(0), w.data(), N, job.base + t0,
                         den_min, m);
      if (job.out) std::memcpy(job.out + t0, res, m * sizeof(float));  // out may alias an input
      if (st) {
        float* nc = num;
        std::memcpy(nc, pos, m * sizeof(float));
        for (uint64_t j = 0; j < m; ++j) pos[j] = neg[j] = 0.f;
        for (uint32_t i = 0; i < N; ++i) t_signs(pos, neg, W.tv(i), m);
        // unweighted tv as the "weighted" value: it contributes iff it is non-zero with the elected sign
        for (uint32_t i = 0; i < N; ++i) t_model_stats(&st->m[i], W.tv(i), W.tv(i), maj, pos, neg, m);
        t_tensor_stats(&st->t, pos, neg, nc, maj, m);
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
