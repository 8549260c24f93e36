// Obviously-correct scalar reference of the merge kernels for the tests:
// plain loops, a complete sort for the top-k (ties broken as MergeParams::
// tie_order says: mergekit's = the order a full std::sort of (key, index)
// pairs by key leaves them in, see sort_ref.h; or lowest index first), one
// position at a time, following the operation order documented in
// merge_kernels.h literally. Slow; only for small test tensors.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dtype.h"
#include "merge_kernels.h"
#include "sort_ref.h"
#include "topk.h"

namespace ref {

using ms::DType;

inline float R(DType r, float x) { return ms::round_to(r, x); }
inline uint32_t key(float x) { return ms::mag_key(x); }  // every NaN one key, above +inf

// Flat indices in the order a magnitude trim ranks them: descending |d|
// (ascending for breadcrumbs' sort), ties as p.tie_order says.
inline std::vector<size_t> magnitude_order(const std::vector<float>& d, bool ascending, ms::TieOrder rule) {
  const size_t n = d.size();
  std::vector<size_t> order(n);
  if (rule == ms::TieOrder::Mergekit) {
    std::vector<uint32_t> keys(n);
    for (size_t j = 0; j < n; ++j) keys[j] = key(d[j]);
#if defined(__GLIBCXX__)
    const bool use_std = true;  // the algorithm itself (torch's CPU sort is libstdc++'s std::sort)
#else
    const bool use_std = false;
#endif
    const std::vector<sortref::Pair> sorted = sortref::full_sort(keys, ascending, use_std);
    for (size_t p = 0; p < n; ++p) order[p] = sorted[p].idx;
    return order;
  }
  for (size_t j = 0; j < n; ++j) order[j] = j;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (key(d[a]) != key(d[b])) return ascending ? key(d[a]) < key(d[b]) : key(d[a]) > key(d[b]);
    return a < b;
  });
  return order;
}
inline float sgn(float x) { return x > 0 ? 1.f : (x < 0 ? -1.f : 0.f); }
constexpr uint32_t kNoCand = 0xffffffffu;

struct Tensor {
  std::string name;
  std::vector<float> base;
  std::vector<std::vector<float>> models;
};

// Everything up to (and including) the election for one tensor.
struct Elected {
  std::vector<std::vector<float>> dt, wd;  // trimmed / weighted deltas
  std::vector<float> acc, maj;
  std::vector<uint32_t> mk;                // ties_sv margin keys (kNoCand: not a candidate)
  std::vector<ms::ModelTensorStats> trim;  // k / threshold fields
  uint64_t favored_nnz = 0;
};

inline Elected weigh_and_elect(const Tensor& t, Elected e, const std::vector<ms::ModelParams>& mp, const ms::MergeParams& p);

inline Elected elect(const Tensor& t, const std::vector<ms::ModelParams>& mp, const ms::MergeParams& p) {
  const DType r = p.compute;
  const size_t M = t.models.size(), n = t.base.size();
  Elected e;
  e.dt.assign(M, std::vector<float>(n, 0.f));
  e.wd.assign(M, std::vector<float>(n, 0.f));
  e.trim.resize(M);
  for (size_t i = 0; i < M; ++i) {
    std::vector<float> d(n);
    for (size_t j = 0; j < n; ++j) d[j] = R(r, t.models[i][j] - t.base[j]);
    ms::ModelTensorStats& s = e.trim[i];
    if (mp[i].density >= 1) {
      e.dt[i] = d;
      s.trimmed = false;
      s.k = n;
      continue;
    }
    s.trimmed = true;
    s.k = uint64_t(mp[i].density * double(n));
    const std::vector<size_t> order = magnitude_order(d, /*ascending=*/false, p.tie_order);
    for (size_t q = 0; q < s.k; ++q) e.dt[i][order[q]] = d[order[q]];
    if (s.k > 0) {
      const uint32_t T = key(d[order[s.k - 1]]);
      s.threshold_valid = true;
      s.threshold = ms::f32_from_bits(T);
      for (size_t j = 0; j < n; ++j) {
        s.n_greater_than_threshold += key(d[j]) > T;
        s.n_equal_to_threshold += key(d[j]) == T;
      }
      s.n_kept_at_threshold = s.k - s.n_greater_than_threshold;
    }
  }
  return weigh_and_elect(t, std::move(e), mp, p);
}

// The election part of elect() for trimmed deltas e.dt given by the caller
// (random trims: their references build e.dt and e.trim themselves).
inline Elected weigh_and_elect(const Tensor& t, Elected e, const std::vector<ms::ModelParams>& mp, const ms::MergeParams& p) {
  const DType r = p.compute;
  const size_t M = t.models.size(), n = t.base.size();
  e.wd.assign(M, std::vector<float>(n, 0.f));
  std::vector<float> wr(M);
  for (size_t i = 0; i < M; ++i) wr[i] = R(r, float(mp[i].weight));
  e.acc.assign(n, 0.f);
  e.maj.assign(n, 0.f);
  e.mk.assign(n, kNoCand);
  const bool sum = p.consensus == ms::Consensus::Sum;
  for (size_t j = 0; j < n; ++j) {
    float acc = 0.f;
    for (size_t i = 0; i < M; ++i) {
      e.wd[i][j] = R(r, wr[i] * e.dt[i][j]);
      acc += sum ? e.wd[i][j] : sgn(e.wd[i][j]);
    }
    e.acc[j] = acc;
    const float s = sum ? R(r, acc) : acc;
    e.maj[j] = s >= 0 ? 1.f : -1.f;
  }
  if (p.method == ms::Method::TiesSV) {
    size_t f = 0;
    for (size_t i = 0; i < M; ++i) if (mp[i].favored) f = i;
    for (size_t j = 0; j < n; ++j) {
      e.favored_nnz += e.dt[f][j] != 0.f;
      const float w = e.wd[f][j];
      if (w != 0.f && sgn(w) != e.maj[j]) e.mk[j] = key(R(r, e.acc[j]));
    }
  }
  return e;
}

// Mixes an elected tensor. reserved[j]: ties_sv reservation (may be empty).
// skip (optional): positions with skip[j] != 0 are left out of the counts
// (golden "..._unambiguous_positions" statistics).
inline void mix(std::vector<float>* out, ms::TensorStats* st, const Tensor& t, Elected& e,
                const std::vector<ms::ModelParams>& mp, const ms::MergeParams& p, const std::vector<bool>& reserved,
                const std::vector<uint8_t>* skip = nullptr) {
  const DType r = p.compute;
  const size_t M = t.models.size(), n = t.base.size();
  std::vector<float> wr(M);
  for (size_t i = 0; i < M; ++i) wr[i] = R(r, float(mp[i].weight));
  size_t f = 0;
  for (size_t i = 0; i < M; ++i) if (mp[i].favored) f = i;
  *st = ms::TensorStats{};
  st->numel = n;
  st->models.resize(M);
  for (size_t i = 0; i < M; ++i) {
    st->models[i] = e.trim[i];
    st->models[i].weight = mp[i].weight;
    st->models[i].density = mp[i].density;
  }
  out->assign(n, 0.f);
  ms::TensorStats dummy;
  dummy.models.resize(M);
  ms::TensorStats* full = st;
  for (size_t j = 0; j < n; ++j) {
    st = (skip && (*skip)[j]) ? &dummy : full;
    if (e.mk[j] != kNoCand) ++st->sv_candidates;
    if (!reserved.empty() && reserved[j]) {
      e.maj[j] = sgn(e.wd[f][j]);
      ++st->sv_reserved;
      ++st->models[f].rescued;
    }
    bool pos = false, neg = false;
    for (size_t i = 0; i < M; ++i) { pos |= e.dt[i][j] > 0; neg |= e.dt[i][j] < 0; }
    const bool conflict = pos && neg;
    st->sign_conflicts += conflict;
    float mixed = 0.f, div = 0.f;
    int ncontrib = 0;
    for (size_t i = 0; i < M; ++i) {
      const bool c = e.wd[i][j] != 0.f && sgn(e.wd[i][j]) == e.maj[j];
      const bool nz = e.dt[i][j] != 0.f;
      ms::ModelTensorStats& s = st->models[i];
      s.nnz_trimmed += nz;
      s.n_contributing += c;
      if (nz && !c) { ++s.n_discarded_by_sign_election; s.l1_discarded_by_sign_election += std::fabs(e.dt[i][j]); }
      s.in_conflict += nz && conflict;
      s.conflicts_won += c && conflict;
      if (c) { mixed += e.wd[i][j]; div += wr[i]; ++ncontrib; }
    }
    st->n_positions_no_contributor += ncontrib == 0;
    st->n_majority_negative += e.maj[j] < 0;
    float q = R(r, mixed);
    if (p.normalize) { float d = R(r, div); if (d == 0.f) d = 1.f; q = R(r, q / d); }
    if (p.lambda != 1.0) q = R(r, q * float(p.lambda));
    (*out)[j] = R(r, t.base[j] + q);
  }
}

// linear / task_arithmetic / ties / ties_sv (tensor scope) for one tensor.
inline void merge(std::vector<float>* out, ms::TensorStats* st, const Tensor& t, const std::vector<ms::ModelParams>& mp,
                  const ms::MergeParams& p, const std::vector<uint8_t>* skip = nullptr) {
  const DType r = p.compute;
  const size_t M = t.models.size();
  const size_t n = M ? t.models[0].size() : 0;
  std::vector<float> wr(M);
  float wsum = 0.f;
  for (size_t i = 0; i < M; ++i) { wr[i] = R(r, float(mp[i].weight)); wsum += wr[i]; }
  wsum = R(r, wsum);
  *st = ms::TensorStats{};
  st->numel = n;
  st->models.resize(M);
  for (size_t i = 0; i < M; ++i) { st->models[i].weight = mp[i].weight; st->models[i].density = mp[i].density; st->models[i].k = n; }
  out->assign(n, 0.f);
  if (p.method == ms::Method::Linear) {
    for (size_t j = 0; j < n; ++j) {
      float acc = 0.f;
      for (size_t i = 0; i < M; ++i) acc += R(r, wr[i] * t.models[i][j]);
      acc = R(r, acc);
      (*out)[j] = p.normalize ? R(r, acc / wsum) : acc;
    }
    return;
  }
  if (p.method == ms::Method::TaskArithmetic) {
    if (std::fabs(wsum) < 1e-8f) wsum = 1.f;
    for (size_t j = 0; j < n; ++j) {
      float acc = 0.f;
      for (size_t i = 0; i < M; ++i) {
        const float d = R(r, t.models[i][j] - t.base[j]);
        const float w = R(r, wr[i] * d);
        st->models[i].nnz_trimmed += d != 0.f;
        st->models[i].n_contributing += w != 0.f;
        acc += w;
      }
      float q = R(r, acc);
      if (p.normalize) q = R(r, q / wsum);
      if (p.lambda != 1.0) q = R(r, q * float(p.lambda));
      (*out)[j] = R(r, t.base[j] + q);
    }
    return;
  }
  Elected e = elect(t, mp, p);
  std::vector<bool> reserved;
  if (p.method == ms::Method::TiesSV) {
    std::vector<std::pair<uint32_t, size_t>> cand;
    for (size_t j = 0; j < n; ++j) if (e.mk[j] != kNoCand) cand.push_back({e.mk[j], j});
    std::sort(cand.begin(), cand.end());
    const uint64_t want = uint64_t(std::floor(p.slack * double(e.favored_nnz)));
    const uint64_t R_ = std::min<uint64_t>(cand.size(), want);
    reserved.assign(n, false);
    for (uint64_t q = 0; q < R_; ++q) reserved[cand[q].second] = true;
  }
  mix(out, st, t, e, mp, p, reserved, skip);
}

// ties_sv model scope by brute force: one global ranking over all tensors
// (key, tensor name byte-wise, flat index). Elects every tensor into *el and
// returns each tensor's reserved positions.
// compute_of (optional): per-tensor compute dtype overriding p.compute.
inline ms::MergeParams tensor_params(const ms::MergeParams& p, const std::map<std::string, DType>* compute_of, const std::string& name) {
  ms::MergeParams q = p;
  if (compute_of) q.compute = compute_of->at(name);
  return q;
}
inline std::map<std::string, std::vector<bool>> model_sv_reserve(std::map<std::string, Elected>* el, const std::vector<Tensor>& ts,
                                                                 const std::vector<ms::ModelParams>& mp, const ms::MergeParams& p,
                                                                 const std::map<std::string, DType>* compute_of = nullptr) {
  uint64_t nnz = 0;
  for (const Tensor& t : ts) { (*el)[t.name] = elect(t, mp, tensor_params(p, compute_of, t.name)); nnz += (*el)[t.name].favored_nnz; }
  struct C { uint32_t key; std::string name; size_t j; };
  std::vector<C> cand;
  for (auto& [name, e] : *el)
    for (size_t j = 0; j < e.mk.size(); ++j) if (e.mk[j] != kNoCand) cand.push_back({e.mk[j], name, j});
  std::sort(cand.begin(), cand.end(), [](const C& a, const C& b) {
    if (a.key != b.key) return a.key < b.key;
    if (a.name != b.name) return a.name < b.name;
    return a.j < b.j;
  });
  const uint64_t want = uint64_t(std::floor(p.slack * double(nnz)));
  const uint64_t R_ = std::min<uint64_t>(cand.size(), want);
  std::map<std::string, std::vector<bool>> res;
  for (const Tensor& t : ts) res[t.name].assign(t.base.size(), false);
  for (uint64_t q = 0; q < R_; ++q) res[cand[q].name][cand[q].j] = true;
  return res;
}
inline void merge_model_sv(std::map<std::string, std::vector<float>>* outs, std::map<std::string, ms::TensorStats>* sts,
                           const std::vector<Tensor>& ts, const std::vector<ms::ModelParams>& mp, const ms::MergeParams& p,
                           const std::map<std::string, DType>* compute_of = nullptr) {
  std::map<std::string, Elected> el;
  std::map<std::string, std::vector<bool>> res = model_sv_reserve(&el, ts, mp, p, compute_of);
  for (const Tensor& t : ts) mix(&(*outs)[t.name], &(*sts)[t.name], t, el[t.name], mp, tensor_params(p, compute_of, t.name), res[t.name]);
}

// Lost-election margins (merge_kernels.h), literally: a candidate's margin is |R(s)| (the key
// elect() ranks by, as a float); its bin comes from comparing it with every edge
// E_e = float(10^((e - 54) / 6)): 0 for a zero margin, 1 below E_0, 2 + e from E_e on, NaN last.
inline uint32_t margin_bin(float margin) {
  if (std::isnan(margin)) return ms::kMarginBins - 1;
  if (margin == 0.f) return 0;
  uint32_t b = 1;
  for (int e = 0; e <= 60; ++e)
    if (margin >= float(std::pow(10.0, double(e - 54) / 6.0))) b = uint32_t(2 + e);
  return b;
}

// Task-vector geometry (merge_kernels.h, TensorStats::has_geometry), literally: tau_i = R(x_i - b)
// untrimmed; float64 sums in the documented order -- lanes j mod 8 inside each 1024-element tile
// (lanes combined in lane order), tiles in order inside each 65536-element chunk, chunks in
// order -- so the engine's sums are expected bit-identical; counts over positions. Masks: the
// trim's kept set from a complete sort (magnitude_order): the first k = int(d * n) positions,
// every position for d >= 1. Pair values: models 0 and 1.
struct Geometry {
  std::vector<double> sum_sq;
  double dot = 0;
  uint64_t both_nonzero = 0, signs_agree = 0, mask_intersection = 0, mask_union = 0;
};

inline std::vector<uint8_t> kept_mask(const std::vector<float>& d, double density, ms::TieOrder rule) {
  const size_t n = d.size();
  if (density >= 1) return std::vector<uint8_t>(n, 1);
  std::vector<uint8_t> keep(n, 0);
  const uint64_t k = uint64_t(density * double(n));
  const std::vector<size_t> order = magnitude_order(d, /*ascending=*/false, rule);
  for (uint64_t q = 0; q < k; ++q) keep[order[q]] = 1;
  return keep;
}

inline Geometry geometry(const Tensor& t, const std::vector<ms::ModelParams>& mp, const ms::MergeParams& p) {
  const size_t M = t.models.size(), n = t.base.size();
  std::vector<std::vector<float>> d(M, std::vector<float>(n));
  for (size_t i = 0; i < M; ++i)
    for (size_t j = 0; j < n; ++j) d[i][j] = R(p.compute, t.models[i][j] - t.base[j]);
  // ordered(f): sum over j of f(j) in the engine's order
  auto ordered = [n](auto f) {
    double total = 0;
    for (size_t c0 = 0; c0 < n; c0 += 65536) {
      double chunk = 0;
      for (size_t t0 = c0; t0 < std::min(n, c0 + 65536); t0 += 1024) {
        double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (size_t j = t0; j < std::min(n, t0 + 1024); ++j) lane[(j - t0) % 8] += f(j);
        double tile = 0;
        for (double l : lane) tile += l;
        chunk += tile;
      }
      total += chunk;
    }
    return total;
  };
  Geometry g;
  for (size_t i = 0; i < M; ++i) g.sum_sq.push_back(ordered([&](size_t j) { return double(d[i][j]) * double(d[i][j]); }));
  if (M < 2) return g;
  g.dot = ordered([&](size_t j) { return double(d[0][j]) * double(d[1][j]); });
  const std::vector<uint8_t> k0 = kept_mask(d[0], mp[0].density, p.tie_order), k1 = kept_mask(d[1], mp[1].density, p.tie_order);
  for (size_t j = 0; j < n; ++j) {
    const bool both = d[0][j] != 0.f && d[1][j] != 0.f;
    g.both_nonzero += both;
    g.signs_agree += (d[0][j] > 0 && d[1][j] > 0) || (d[0][j] < 0 && d[1][j] < 0);
    g.mask_intersection += k0[j] && k1[j];
    g.mask_union += k0[j] || k1[j];
  }
  return g;
}

}  // namespace ref
