// Density sweep: the statistics of `ties` at every combination of a list of
// densities across the models, from one pass over the data (plus the top-k
// selections, all in one pass S). docs/merge-methods.md explains the idea:
//
// For one model, the kept sets at ascending densities are nested (prefixes of
// one ranking: |delta| descending, threshold ties in the tie rule's order), so an element
// is described by f_i = the first listed density level at which it is kept
// (U if never). Whether it counts as a sign conflict, contributes, is
// discarded, ... at a grid point depends only on which models keep it there
// (model i keeps it iff f_i <= u_i) and on a small signature: per model the
// signs of delta and of the weighted delta (8 states), plus, for the sum
// election, the elected sign of every subset of >= 2 models. The pass counts
// elements per (f tuple, signature) and sums their |delta| per model; every
// grid point's statistics are sums over that table, so they equal what a
// single analysis at those densities returns (counts exactly; the L1 sums
// up to float64 rounding, since they are added in a different order).
//
// Determinism: per-chunk tables (sparse), merged in chunk order.
// Memory: a dense per-worker table of cells * signatures entries (4802 for
// 2 models and 6 densities; RECIPE_INVALID above 2^22 entries).
#pragma GCC optimize("fp-contract=off")
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "kernels/common.h"
#include "kernels/kernels.h"
#include "kernels/selection.h"
#include "kernels/tile_ops.h"
#include "topk.h"

namespace ms::kern {

namespace {

// Per-model element state (t_sweep_state): sign of delta x sign of weighted delta.
enum : uint32_t { kZero = 0, kPosPos, kPosNeg, kPosZero, kNegNeg, kNegPos, kNegZero, kNaN };
constexpr uint32_t kStateBits = 3;

inline int d_sign(uint32_t s) { return s >= kPosPos && s <= kPosZero ? 1 : (s >= kNegNeg && s <= kNegZero ? -1 : 0); }
inline int wd_sign(uint32_t s) { return (s == kPosPos || s == kNegPos) ? 1 : (s == kPosNeg || s == kNegNeg) ? -1 : 0; }

struct Layout {
  uint32_t M = 0, U = 0;          // models, distinct density levels
  uint32_t n_subsets = 0;         // subsets with >= 2 models (sum election majority bits)
  std::vector<uint32_t> subsets;  // bitmasks, in bit order
  uint64_t n_sig = 0, n_cells = 0, n_entries = 0;
};

struct ChunkEntries {
  std::vector<uint32_t> idx;
  std::vector<uint32_t> count;
  std::vector<double> l1;  // M per entry
};

// The pass's hot loop, shape: for j < m: e = cell[j] * n_sig + sig[j];
// count[e] += 1; l1[e * M + i] += |d[i * kTile + j]| for every model i.
// Entries first seen in this chunk are appended to touched (n_touched of them;
// touched has room for one more than there can be). kM: M known at compile
// time (1..3) or 0 (runtime M), so the per-model loop unrolls and the table
// pointers stay in registers.
template <uint32_t kM>
void tally_tile(uint32_t* __restrict count, double* __restrict l1, uint32_t* __restrict touched, uint64_t& n_touched,
                const uint32_t* __restrict cell, const uint32_t* __restrict sig, const float* __restrict d,
                uint64_t m, uint64_t n_sig, uint32_t runtime_m) {
  const uint32_t M = kM != 0 ? kM : runtime_m;
  uint64_t nt = n_touched;
  for (uint64_t j = 0; j < m; ++j) {
    const uint64_t e = uint64_t(cell[j]) * n_sig + sig[j];
    touched[nt] = uint32_t(e);
    nt += count[e]++ == 0;  // branch-free: the slot is overwritten unless e is new
    double* le = l1 + e * M;
    for (uint32_t i = 0; i < M; ++i) le[i] += double(std::fabs(d[uint64_t(i) * kTile + j]));
  }
  n_touched = nt;
}

}  // namespace

void run_sweep(const Job& job, const double* densities, uint32_t D, std::vector<TensorStats>* out) {
  const uint32_t M = job.n_models;
  const uint64_t n = job.n;
  const DType r = job.p->compute;
  const bool sum = job.p->consensus == Consensus::Sum;
  SelCtx ctx;
  ctx.job = &job;
  ctx.rule = job.p->tie_order == TieOrder::Index ? TieRule::Index : TieRule::Mergekit;
  ctx.r = r;
  ctx.n = n;
  ctx.nc = n_chunks(n);

  // Distinct density levels, ascending; orig -> level.
  std::vector<double> levels(densities, densities + D);
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  const uint32_t U = uint32_t(levels.size());
  std::vector<uint32_t> level_of(D);
  for (uint32_t q = 0; q < D; ++q)
    level_of[q] = uint32_t(std::lower_bound(levels.begin(), levels.end(), densities[q]) - levels.begin());

  Layout L;
  L.M = M;
  L.U = U;
  if (sum)
    for (uint32_t mask = 0; mask < (1u << M); ++mask)
      if (__builtin_popcount(mask) >= 2) L.subsets.push_back(mask);
  L.n_subsets = uint32_t(L.subsets.size());
  L.n_sig = uint64_t(1) << (kStateBits * M + L.n_subsets);
  L.n_cells = 1;
  for (uint32_t i = 0; i < M; ++i) L.n_cells *= U + 1;
  if (M > 8 || L.n_sig > (uint64_t(1) << 22) || L.n_cells * L.n_sig > (uint64_t(1) << 22))
    throw MergeError(ErrorCode::RECIPE_INVALID,
                     "density sweep: " + std::to_string(M) + " models x " + std::to_string(U) +
                         " densities is too large for one pass; sweep at most 3 models (2 with more than 6 densities)");
  L.n_entries = L.n_cells * L.n_sig;

  // Cuts: cut[i * U + u], one top-k per model and level.
  std::vector<TrimModel> cut(uint64_t(M) * U);
  std::vector<SelReq> reqs;
  for (uint32_t i = 0; i < M; ++i)
    for (uint32_t u = 0; u < U; ++u) {
      TrimModel& t = cut[i * U + u];
      const double d = levels[u];
      if (d >= 1.0) { t.all = true; t.k = n; continue; }
      t.all = false;
      t.k = std::min<uint64_t>(n, uint64_t(d * double(n)));
      if (t.k == 0) { t.none = true; continue; }
      reqs.push_back({i, &t});
    }
  ctx.prefer_histograms = U >= 3;
  run_selections(ctx, reqs);

  std::vector<float> wr(M);
  for (uint32_t i = 0; i < M; ++i) wr[i] = job.wr[i];

  // Pass: per chunk, a sparse table of (entry, count, l1[M]).
  const unsigned nw = job.pool->size();
  struct Worker {
    std::vector<uint32_t> count;
    std::vector<double> l1;
    std::vector<uint32_t> touched;  // entries seen in the current chunk (+1 spare slot)
    uint64_t n_touched = 0;
    std::vector<float> d, wd, acc;
    std::vector<uint32_t> f, sig, cell;
    std::vector<float> part;
  };
  std::vector<Worker> workers(nw);
  std::vector<ChunkEntries> chunks(ctx.nc);
  // Task-vector geometry, as the analysis pass sums it (same tiles, same order): the untrimmed
  // deltas are the pass's d. The masks' overlap per grid point comes from the table below.
  std::vector<GeometryTileStats> gstats(ctx.nc);
  std::vector<double> gsq(M > 2 ? mul_size(ctx.nc, M, "geometry") : 0, 0.0);
  job.pool->parallel_for_worker(ctx.nc, [&](uint64_t c, unsigned w) {
    check_cancel(job.cancel);
    Worker& W = workers[w];
    if (W.count.empty()) {
      W.count.assign(L.n_entries, 0);
      W.l1.assign(L.n_entries * M, 0.0);
      W.touched.resize(std::min<uint64_t>(L.n_entries, kChunk) + 1);
      W.d.resize(uint64_t(M) * kTile);
      W.wd.resize(uint64_t(M) * kTile);
      W.acc.resize(kTile);
      W.f.resize(uint64_t(M) * kTile);
      W.sig.resize(kTile);
      W.cell.resize(kTile);
      W.part.resize(kTile);
    }
    std::vector<ChunkCut> cc(uint64_t(M) * U);
    std::vector<uint32_t> tc(uint64_t(M) * U);
    for (uint64_t x = 0; x < uint64_t(M) * U; ++x) {
      cc[x] = chunk_cut(cut[x], c);
      tc[x] = cc[x].tc;
    }
    const uint64_t j1 = std::min(n, (c + 1) * kChunk);
    for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
      const uint64_t m = std::min(kTile, j1 - t0);
      const float* b = job.base + t0;
      float* acc = W.acc.data();
      std::fill(acc, acc + m, 0.f);
      uint32_t* sig = W.sig.data();
      std::fill(sig, sig + m, 0u);
      for (uint32_t i = 0; i < M; ++i) {
        float* d = W.d.data() + uint64_t(i) * kTile;
        float* wd = W.wd.data() + uint64_t(i) * kTile;
        uint32_t* f = W.f.data() + uint64_t(i) * kTile;
        t_delta_trim(d, job.models[i] + t0, b, m, r, 0);
        t_weigh_sum(wd, acc, d, wr[i], m, r);
        // f = number of levels at which the element is not kept = first kept level
        t_sweep_levels(f, d, m, tc.data() + uint64_t(i) * U, U);
        for (uint32_t u = 0; u < U; ++u) {  // threshold ties kept in this chunk (tie rule)
          ChunkCut& k = cc[i * U + u];
          for (uint64_t j = 0; j < m && k.partial(); ++j)
            if (mag_key(d[j]) == k.T && k.take_tie()) --f[j];
        }
        t_sweep_state(sig, d, wd, m, kStateBits * i);
      }
      // elected sign of every subset of >= 2 models (sum election; F32 sums in model order)
      for (uint32_t s = 0; s < L.n_subsets; ++s) {
        const uint32_t mask = L.subsets[s];
        const uint32_t bit = 1u << (kStateBits * M + s);
        if (mask == (1u << M) - 1) {  // all models: the weigh step's sum
          t_sweep_majority(sig, acc, m, bit, r);
          continue;
        }
        float* part = W.part.data();
        std::fill(part, part + m, 0.f);
        for (uint32_t i = 0; i < M; ++i)
          if (mask >> i & 1) {
            const float* wd = W.wd.data() + uint64_t(i) * kTile;
            for (uint64_t j = 0; j < m; ++j) part[j] += wd[j];
          }
        t_sweep_majority(sig, part, m, bit, r);
      }
      if (M == 1) gstats[c].sum_sq0 += t_sum_sq(W.d.data(), m);
      else t_geometry(&gstats[c], W.d.data(), W.d.data() + kTile, nullptr, nullptr, m);
      for (uint32_t i = 2; i < M; ++i) gsq[c * M + i] += t_sum_sq(W.d.data() + uint64_t(i) * kTile, m);
      uint32_t* cell = W.cell.data();
      std::fill(cell, cell + m, 0u);
      for (uint32_t i = M; i-- > 0;) t_sweep_cell(cell, W.f.data() + uint64_t(i) * kTile, m, U + 1);
      const auto tally = M == 1 ? tally_tile<1> : M == 2 ? tally_tile<2> : M == 3 ? tally_tile<3> : tally_tile<0>;
      tally(W.count.data(), W.l1.data(), W.touched.data(), W.n_touched, cell, sig, W.d.data(), m, L.n_sig, M);
    }
    ChunkEntries& ce = chunks[c];
    const auto touched_end = W.touched.begin() + int64_t(W.n_touched);
    std::sort(W.touched.begin(), touched_end);
    ce.idx.reserve(W.n_touched);
    ce.count.reserve(W.n_touched);
    ce.l1.reserve(W.n_touched * M);
    for (auto it = W.touched.begin(); it != touched_end; ++it) {
      const uint32_t e = *it;
      ce.idx.push_back(e);
      ce.count.push_back(W.count[e]);
      for (uint32_t i = 0; i < M; ++i) ce.l1.push_back(W.l1[uint64_t(e) * M + i]);
      W.count[e] = 0;
      for (uint32_t i = 0; i < M; ++i) W.l1[uint64_t(e) * M + i] = 0.0;
    }
    W.n_touched = 0;
  });

  // Merge in chunk order (deterministic), into a sparse global table.
  std::vector<uint64_t> gcount(L.n_entries, 0);
  std::vector<double> gl1(L.n_entries * M, 0.0);
  for (const ChunkEntries& ce : chunks)
    for (size_t x = 0; x < ce.idx.size(); ++x) {
      gcount[ce.idx[x]] += ce.count[x];
      for (uint32_t i = 0; i < M; ++i) gl1[uint64_t(ce.idx[x]) * M + i] += ce.l1[x * M + i];
    }
  chunks = {};
  std::vector<uint32_t> live;
  for (uint64_t e = 0; e < L.n_entries; ++e)
    if (gcount[e]) live.push_back(uint32_t(e));

  TensorStats geo;  // density-independent geometry, copied into every grid point
  geo.has_geometry = true;
  geo.has_pair = M >= 2;
  geo.has_mask_overlap = M >= 2;
  std::vector<double> sum_sq(M, 0.0);
  for (uint64_t c = 0; c < ctx.nc; ++c) {  // chunk order, as the analysis pass
    const GeometryTileStats& g = gstats[c];
    sum_sq[0] += g.sum_sq0;
    if (M >= 2) sum_sq[1] += g.sum_sq1;
    for (uint32_t i = 2; i < M; ++i) sum_sq[i] += gsq[c * M + i];
    if (M >= 2) {
      geo.tv_dot += g.dot;
      geo.n_both_nonzero += g.both_nonzero;
      geo.n_signs_agree += g.signs_agree;
    }
  }

  // Grid points, original density order, first model slowest.
  uint64_t n_points = 1;
  for (uint32_t i = 0; i < M; ++i) n_points *= D;
  out->assign(n_points, TensorStats{});
  std::vector<uint32_t> q(M), u(M), st(M);
  for (uint64_t pt = 0; pt < n_points; ++pt) {
    for (uint64_t rest = pt, i = M; i-- > 0; rest /= D) q[i] = uint32_t(rest % D);
    for (uint32_t i = 0; i < M; ++i) u[i] = level_of[q[i]];
    TensorStats& ts = (*out)[pt];
    ts = geo;
    ts.numel = n;
    ts.models.assign(M, ModelTensorStats{});
    for (uint32_t i = 0; i < M; ++i) {
      ModelTensorStats& s = ts.models[i];
      const TrimModel& t = cut[i * U + u[i]];
      s.weight = job.mp[i].weight;
      s.density = densities[q[i]];
      s.tv_sum_sq = sum_sq[i];
      s.trimmed = !t.all;
      s.k = t.k;
      s.threshold_valid = !t.all && !t.none;
      if (s.threshold_valid) {
        s.threshold = f32_from_bits(t.T);
        s.n_greater_than_threshold = t.n_greater;
        s.n_equal_to_threshold = t.n_equal;
        s.n_kept_at_threshold = t.kept_at;
      }
    }
    for (uint32_t e : live) {
      const uint64_t cnt = gcount[e];
      const uint64_t cell = e / L.n_sig, sg = e % L.n_sig;
      uint32_t S = 0;
      uint64_t cr = cell;
      for (uint32_t i = 0; i < M; ++i, cr /= (U + 1)) {
        if (cr % (U + 1) <= u[i]) S |= 1u << i;
        st[i] = uint32_t(sg >> (kStateBits * i)) & 7u;
      }
      int maj;
      const int members = __builtin_popcount(S);
      if (!sum) {
        int votes = 0;
        for (uint32_t i = 0; i < M; ++i)
          if (S >> i & 1) votes += wd_sign(st[i]);
        maj = votes >= 0 ? 1 : -1;
      } else if (members == 0) {
        maj = 1;
      } else if (members == 1) {
        const uint32_t s1 = st[__builtin_ctz(S)];
        maj = s1 == kNaN ? -1 : wd_sign(s1) < 0 ? -1 : 1;  // R(0 + wd) >= 0
      } else {
        const uint32_t sidx =
            uint32_t(std::find(L.subsets.begin(), L.subsets.end(), S) - L.subsets.begin());
        maj = (sg >> (kStateBits * M + sidx)) & 1 ? 1 : -1;
      }
      bool pos = false, neg = false, any_c = false;
      for (uint32_t i = 0; i < M; ++i)
        if (S >> i & 1) {
          pos |= d_sign(st[i]) > 0;
          neg |= d_sign(st[i]) < 0;
        }
      const bool conflict = pos && neg;
      for (uint32_t i = 0; i < M; ++i) {
        if (!(S >> i & 1)) continue;
        const bool nz = st[i] != kZero;
        const bool c = wd_sign(st[i]) == maj;
        ModelTensorStats& s = ts.models[i];
        if (nz) s.nnz_trimmed += cnt;
        if (c) { s.n_contributing += cnt; any_c = true; }
        if (nz && !c) {
          s.n_discarded_by_sign_election += cnt;
          s.l1_discarded_by_sign_election += gl1[uint64_t(e) * M + i];
        }
        if (nz && conflict) s.in_conflict += cnt;
        if (c && conflict) s.conflicts_won += cnt;
      }
      if (conflict) ts.sign_conflicts += cnt;
      if (M >= 2) {  // the trims' masks at this point: model i keeps the element iff bit i of S
        ts.mask_intersection += (S & 3u) == 3u ? cnt : 0;
        ts.mask_union += (S & 3u) != 0 ? cnt : 0;
      }
      if (!any_c) ts.n_positions_no_contributor += cnt;
      if (maj < 0) ts.n_majority_negative += cnt;
    }
  }
}

}  // namespace ms::kern
