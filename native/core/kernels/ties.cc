// ties / ties_sv: magnitude trim (radix top-k), sign election, disjoint merge.
//
// Passes (each over fixed 64Ki-element chunks, tiles of kTile inside):
//   S   top-k threshold for every trimmed model in one pass: a deterministic
//       sample of |delta| keys brackets the k-th key in a window [lo, hi];
//       the pass counts keys > hi, == hi and == lo per chunk and collects
//       the keys strictly inside the window (so big tie groups at the edges,
//       common with BF16 deltas, are counted, not stored); the exact
//       threshold and per-chunk tie counts follow from those. If the window misses the k-th key or
//       grows too large, those models fall back to A1..A3. Results never
//       depend on the sample, only the speed does.
//   A1  level-1 histogram of |delta| keys (key >> 15) for every trimmed model
//   A2  level-2 histogram (key & 0x7fff) inside the k-th item's level-1 bin;
//       skipped for BF16 compute, where keys have 16 zero low bits
//   A3  per-chunk count of keys == threshold, only when some but not all
//       threshold ties are kept (lowest flat index first needs chunk offsets)
//   SV  ties_sv only: margin histograms / per-chunk cutoff counts
//   M   fused merge: delta, trim, weigh, elect, (reserve), mix, finish, stats
// Deltas are recomputed from base and models in every pass instead of being
// stored: a pass costs one read of the inputs, no full-size temporaries.
#include <algorithm>
#include <atomic>
#include <functional>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/common.h"
#include "kernels/kernels.h"
#include "kernels/tile_ops.h"
#include "topk.h"

namespace ms::kern {

int g_topk_mode = 0;
uint64_t g_topk_sample_min_n = uint64_t(1) << 19;  // below: histograms are cheap enough
std::atomic<uint64_t> g_topk_fallbacks{0};

namespace {


// Trim decision for one model.
struct TrimModel {
  bool all = true;         // density >= 1: keep everything
  bool none = false;       // k == 0: keep nothing
  uint64_t k = 0;
  uint32_t T = 0;          // threshold key (k-th largest |delta|)
  uint64_t n_greater = 0, n_equal = 0, kept_at = 0;
  bool partial = false;    // 0 < kept_at < n_equal: chunk-level tie budgets below
  std::vector<uint64_t> keep_chunk, eq_chunk;
};

struct Ctx {
  const Job* job = nullptr;
  DType r = DType::F32;
  uint32_t M = 0;
  uint64_t n = 0, nc = 0;
  bool sum = true;
  int fav = -1;            // favored model (ties_sv)
  std::vector<TrimModel> trim;
};

// Per-worker tile scratch.
struct Bufs {
  std::vector<float> f;
  std::vector<uint32_t> u;
  uint32_t M = 0;
  void init(uint32_t m) {
    M = m;
    f.assign(uint64_t(2 * m + 8) * kTile, 0.f);
    u.assign(2 * kTile, 0u);
  }
  float* dt(uint32_t i) { return f.data() + uint64_t(i) * kTile; }
  float* wd(uint32_t i) { return f.data() + uint64_t(M + i) * kTile; }
  float* extra(uint32_t e) { return f.data() + uint64_t(2 * M + e) * kTile; }
  float* acc() { return extra(0); }
  float* maj() { return extra(1); }
  float* mixed() { return extra(2); }
  float* div() { return extra(3); }
  float* nc() { return extra(4); }
  float* pos() { return extra(5); }
  float* neg() { return extra(6); }
  float* res() { return extra(7); }
  uint32_t* keys() { return u.data(); }
  uint32_t* mk() { return u.data() + kTile; }
};

Ctx make_ctx(const Job& job) {
  Ctx ctx;
  ctx.job = &job;
  ctx.r = job.p->compute;
  ctx.M = job.n_models;
  ctx.n = job.n;
  ctx.nc = n_chunks(job.n);
  ctx.sum = job.p->consensus == Consensus::Sum;
  if (job.p->method == Method::TiesSV)
    for (uint32_t i = 0; i < ctx.M; ++i)
      if (job.mp[i].favored) ctx.fav = int(i);
  return ctx;
}

// Histogram pass over |delta| keys of the selected models: bin_of(key, l)
// returns a bin in [0, n_bins) or -1. hist: sel.size() * n_bins, u64.
template <class BinOf>
void delta_hist_pass(const Ctx& ctx, const std::vector<uint32_t>& sel, uint32_t n_bins, BinOf bin_of,
                     std::vector<uint64_t>& hist) {
  const Job& job = *ctx.job;
  const uint64_t L = sel.size();
  const unsigned nw = job.pool->size();
  const uint64_t per_worker = L * n_bins;
  hist.assign(L * n_bins, 0);
  std::vector<uint32_t> wh(mul_size(nw, per_worker, "histogram"));
  std::vector<uint32_t> keys(uint64_t(nw) * kTile);
  for (uint64_t c0 = 0; c0 < ctx.nc; c0 += kChunksPerBatch) {
    const uint64_t c1 = std::min(ctx.nc, c0 + kChunksPerBatch);
    std::fill(wh.begin(), wh.end(), 0u);
    job.pool->parallel_for_worker(c1 - c0, [&](uint64_t t, unsigned w) {
      check_cancel(job.cancel);
      const uint64_t c = c0 + t;
      const uint64_t j1 = std::min(ctx.n, (c + 1) * kChunk);
      uint32_t* kb = keys.data() + uint64_t(w) * kTile;
      for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
        const uint64_t m = std::min(kTile, j1 - t0);
        for (uint64_t l = 0; l < L; ++l) {
          uint32_t* h = wh.data() + uint64_t(w) * per_worker + l * n_bins;
          t_delta_keys(kb, job.models[sel[l]] + t0, job.base + t0, m, ctx.r);
          for (uint64_t j = 0; j < m; ++j) {
            const int64_t bin = bin_of(kb[j], l);
            if (bin >= 0) ++h[bin];
          }
        }
      }
    });
    for (unsigned w = 0; w < nw; ++w)
      for (uint64_t x = 0; x < per_worker; ++x) hist[x] += wh[uint64_t(w) * per_worker + x];
  }
}

// Exact threshold by histograms (A1, A2) for the models in `sel`.
void select_by_histogram(Ctx& ctx, const std::vector<uint32_t>& sel) {
  if (sel.empty()) return;
  const uint64_t L = sel.size();
  std::vector<uint64_t> h1;
  delta_hist_pass(ctx, sel, kTopkHiBins, [](uint32_t key, uint64_t) -> int64_t { return key >> 15; }, h1);
  std::vector<uint32_t> bin1(L);
  std::vector<uint64_t> above1(L);
  for (uint64_t l = 0; l < L; ++l) {
    TrimModel& t = ctx.trim[sel[l]];
    const BinPick p = pick_from_top(h1.data() + l * kTopkHiBins, kTopkHiBins, t.k);
    bin1[l] = p.bin;
    above1[l] = p.before;
    t.T = p.bin << 15;
    t.n_greater = p.before;
    t.n_equal = p.in_bin;
  }
  // A2: level 2 unless level 1 is exact (BF16 values: low 16 key bits are zero).
  if (ctx.r != DType::BF16) {
    std::vector<uint64_t> h2;
    delta_hist_pass(ctx, sel, kTopkLoBins, [&bin1](uint32_t key, uint64_t l) -> int64_t {
      return (key >> 15) == bin1[l] ? int64_t(key & 0x7fffu) : -1;
    }, h2);
    for (uint64_t l = 0; l < L; ++l) {
      TrimModel& t = ctx.trim[sel[l]];
      const BinPick p = pick_from_top(h2.data() + l * kTopkLoBins, kTopkLoBins, t.k - above1[l]);
      t.T = (bin1[l] << 15) | p.bin;
      t.n_greater = above1[l] + p.before;
      t.n_equal = p.in_bin;
    }
  }
}

// Sampled-window selection (pass S). Returns, per model of `sel`, whether it
// succeeded; on success t.T, n_greater, n_equal and t.eq_chunk are set.
std::vector<bool> select_by_sample(Ctx& ctx, const std::vector<uint32_t>& sel) {
  const Job& job = *ctx.job;
  const uint64_t L = sel.size(), n = ctx.n, S = kTopkSample;
  std::vector<bool> ok(L, false);
  struct Win { uint32_t lo, hi; bool count_only; };
  std::vector<Win> win(L);
  std::vector<uint32_t> sk(S);
  for (uint64_t l = 0; l < L; ++l) {
    const TrimModel& t = ctx.trim[sel[l]];
    const float* x = job.models[sel[l]];
    for (uint64_t s = 0; s < S; ++s) {
      const uint64_t j = topk_sample_position(s, n);
      sk[s] = mag_key(round_to(ctx.r, x[j] - job.base[j]));
    }
    const double q = double(t.k) / double(n), center = q * double(S);
    const double margin = g_topk_mode == 2 ? 0.0 : 5.0 * std::sqrt(double(S) * q * (1.0 - q)) + 8.0;
    const int64_t r_hi = int64_t(std::floor(center - margin)), r_lo = int64_t(std::ceil(center + margin));
    auto at_desc = [&](int64_t rank) {  // rank-th largest sample key (selection, not a sort)
      std::nth_element(sk.begin(), sk.begin() + rank, sk.end(), std::greater<uint32_t>());
      return sk[size_t(rank)];
    };
    win[l].hi = r_hi < 0 ? 0xffffffffu : at_desc(r_hi);
    win[l].lo = r_lo >= int64_t(S) ? 0u : at_desc(r_lo);
    win[l].count_only = win[l].lo == win[l].hi;
  }
  // pass S: per chunk, keys > hi, == hi, == lo (counted) and lo < key < hi (collected)
  const uint64_t nc = ctx.nc;
  std::vector<uint64_t> gt(nc * L, 0), eq_hi(nc * L, 0), eq_lo(nc * L, 0);
  std::vector<std::vector<uint32_t>> coll(nc * L);
  std::vector<std::atomic<uint64_t>> total(L);
  std::vector<std::atomic<bool>> failed(L);
  for (uint64_t l = 0; l < L; ++l) { total[l] = 0; failed[l] = false; }
  const uint64_t cap = std::max<uint64_t>(n / 8, kChunk);  // memory bound for collected keys
  std::vector<uint32_t> keys(uint64_t(job.pool->size()) * kTile);
  job.pool->parallel_for_worker(nc, [&](uint64_t c, unsigned w) {
    check_cancel(job.cancel);
    const uint64_t j1 = std::min(n, (c + 1) * kChunk);
    uint32_t* kb = keys.data() + uint64_t(w) * kTile;
    for (uint64_t l = 0; l < L; ++l) {
      if (failed[l].load(std::memory_order_relaxed)) continue;
      const Win wl = win[l];
      const uint64_t x = c * L + l;
      std::vector<uint32_t>& v = coll[x];
      for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
        const uint64_t m = std::min(kTile, j1 - t0);
        t_delta_keys(kb, job.models[sel[l]] + t0, job.base + t0, m, ctx.r);
        gt[x] += t_count_gt(kb, m, wl.hi);
        eq_hi[x] += t_count_eq(kb, m, wl.hi);
        if (wl.count_only) continue;
        eq_lo[x] += t_count_eq(kb, m, wl.lo);
        const size_t old = v.size();
        v.resize(old + m);
        v.resize(old + t_collect_between(v.data() + old, kb, m, wl.lo, wl.hi));
      }
      if (!wl.count_only && total[l].fetch_add(v.size()) + v.size() > cap) failed[l] = true;
    }
  });
  for (uint64_t l = 0; l < L; ++l) {
    if (failed[l]) continue;
    TrimModel& t = ctx.trim[sel[l]];
    // rank order: > hi (G), == hi (EH), inside (C), == lo (EL; lo < hi only)
    uint64_t G = 0, EH = 0, C = 0, EL = 0;
    for (uint64_t c = 0; c < nc; ++c) {
      G += gt[c * L + l];
      EH += eq_hi[c * L + l];
      C += coll[c * L + l].size();
      EL += eq_lo[c * L + l];
    }
    if (t.k <= G || t.k > G + EH + C + EL) continue;  // window missed the k-th key: fall back
    t.eq_chunk.assign(nc, 0);
    if (t.k <= G + EH) {
      t.T = win[l].hi;
      t.n_greater = G;
      t.n_equal = EH;
      for (uint64_t c = 0; c < nc; ++c) t.eq_chunk[c] = eq_hi[c * L + l];
    } else if (t.k <= G + EH + C) {
      std::vector<uint32_t> all;
      all.reserve(C);
      for (uint64_t c = 0; c < nc; ++c) all.insert(all.end(), coll[c * L + l].begin(), coll[c * L + l].end());
      const TopkSelect s = topk_select(all.data(), all.size(), t.k - G - EH, true, *job.pool);
      t.T = s.threshold;
      t.n_greater = G + EH + s.n_beyond;
      t.n_equal = s.n_equal;
      for (uint64_t c = 0; c < nc; ++c) {
        uint64_t e = 0;
        for (uint32_t key : coll[c * L + l]) e += key == t.T;
        t.eq_chunk[c] = e;
      }
    } else {
      t.T = win[l].lo;
      t.n_greater = G + EH + C;
      t.n_equal = EL;
      for (uint64_t c = 0; c < nc; ++c) t.eq_chunk[c] = eq_lo[c * L + l];
    }
    ok[l] = true;
  }
  return ok;
}

void plan_trim(Ctx& ctx) {
  const Job& job = *ctx.job;
  ctx.trim.assign(ctx.M, TrimModel{});
  std::vector<uint32_t> sel;
  for (uint32_t i = 0; i < ctx.M; ++i) {
    TrimModel& t = ctx.trim[i];
    const double d = job.mp[i].density;
    if (d >= 1.0) { t.all = true; t.k = ctx.n; continue; }
    t.all = false;
    t.k = uint64_t(d * double(ctx.n));  // int(density * numel): float64 product, truncated
    if (t.k > ctx.n) t.k = ctx.n;       // cannot happen for d < 1; defensive
    if (t.k == 0) { t.none = true; continue; }
    sel.push_back(i);
  }
  if (sel.empty()) return;

  std::vector<uint32_t> hist_sel;
  if (g_topk_mode != 1 && ctx.n >= std::max(g_topk_sample_min_n, 4 * kTopkSample)) {
    const std::vector<bool> ok = select_by_sample(ctx, sel);
    for (size_t l = 0; l < sel.size(); ++l)
      if (!ok[l]) hist_sel.push_back(sel[l]);
    g_topk_fallbacks += hist_sel.size();
  } else {
    hist_sel = sel;
  }
  select_by_histogram(ctx, hist_sel);

  std::vector<uint32_t> part;  // models that keep only some threshold ties and lack chunk counts
  for (uint32_t i : sel) {
    TrimModel& t = ctx.trim[i];
    t.kept_at = t.k - t.n_greater;
    t.partial = t.kept_at < t.n_equal;
    if (t.partial && t.eq_chunk.empty()) part.push_back(i);
  }
  if (!part.empty()) {
    // A3: per-chunk tie counts for models that keep only some threshold ties.
    const uint64_t P = part.size();
    std::vector<uint64_t> eq(mul_size(ctx.nc, P, "tie counts"), 0);
    std::vector<uint32_t> keys(uint64_t(job.pool->size()) * kTile);
    job.pool->parallel_for_worker(ctx.nc, [&](uint64_t c, unsigned w) {
      check_cancel(job.cancel);
      const uint64_t j1 = std::min(ctx.n, (c + 1) * kChunk);
      uint32_t* kb = keys.data() + uint64_t(w) * kTile;
      for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
        const uint64_t m = std::min(kTile, j1 - t0);
        for (uint64_t q = 0; q < P; ++q) {
          t_delta_keys(kb, job.models[part[q]] + t0, job.base + t0, m, ctx.r);
          eq[c * P + q] += t_count_eq(kb, m, ctx.trim[part[q]].T);
        }
      }
    });
    for (uint64_t q = 0; q < P; ++q) {
      TrimModel& t = ctx.trim[part[q]];
      t.eq_chunk.resize(ctx.nc);
      for (uint64_t c = 0; c < ctx.nc; ++c) t.eq_chunk[c] = eq[c * P + q];
    }
  }
  for (uint32_t i : sel) {
    TrimModel& t = ctx.trim[i];
    if (!t.partial) continue;
    t.keep_chunk.resize(ctx.nc);
    distribute_ties(t.keep_chunk.data(), t.eq_chunk.data(), ctx.nc, t.kept_at);
  }
}

// Chunk-level trim parameters: keep iff key >= tc[i]; plus budget[i]
// threshold ties (key == T) to keep in flat order when only some are kept.
void chunk_trim(const Ctx& ctx, uint64_t c, uint32_t* tc, uint64_t* budget) {
  for (uint32_t i = 0; i < ctx.M; ++i) {
    const TrimModel& t = ctx.trim[i];
    budget[i] = 0;
    if (t.all) tc[i] = 0;
    else if (t.none) tc[i] = 0x80000000u;  // above every key
    else if (!t.partial) tc[i] = t.T;      // every threshold tie kept
    else if (t.keep_chunk[c] == t.eq_chunk[c]) tc[i] = t.T;
    else { tc[i] = t.T + 1; budget[i] = t.keep_chunk[c]; }
  }
}

// One tile up to the election: dt_i, wd_i, acc (sum / count), maj, and the
// ties_sv margin keys if want_mk.
void election_tile(const Ctx& ctx, Bufs& B, uint64_t t0, uint64_t m, const uint32_t* tc, uint64_t* budget,
                   bool want_mk) {
  const Job& job = *ctx.job;
  const float* b = job.base + t0;
  float* acc = B.acc();
  std::fill(acc, acc + m, 0.f);
  for (uint32_t i = 0; i < ctx.M; ++i) {
    const float* x = job.models[i] + t0;
    float* dt = B.dt(i);
    if (budget[i] == 0) {  // common case: one fused loop
      t_trim_weigh(dt, B.wd(i), acc, x, b, m, ctx.r, tc[i], job.wr[i], !ctx.sum);
      continue;
    }
    // the one chunk per model where the threshold-tie budget runs out
    t_delta_trim(dt, x, b, m, ctx.r, tc[i]);
    const uint32_t T = ctx.trim[i].T;
    for (uint64_t j = 0; j < m && budget[i] > 0; ++j) {
      const float d = round_to(ctx.r, x[j] - b[j]);
      if (mag_key(d) == T) { dt[j] = d; --budget[i]; }
    }
    if (ctx.sum) t_weigh_sum(B.wd(i), acc, dt, job.wr[i], m, ctx.r);
    else t_weigh_count(B.wd(i), acc, dt, job.wr[i], m, ctx.r);
  }
  t_majority(B.maj(), acc, m, ctx.sum ? ctx.r : DType::F32);
  if (want_mk) t_sv_margin(B.mk(), acc, B.wd(uint32_t(ctx.fav)), B.maj(), m, ctx.r);
}

std::vector<Bufs> make_bufs(const Ctx& ctx) {
  std::vector<Bufs> v(ctx.job->pool->size());
  for (auto& b : v) b.init(ctx.M);
  return v;
}

// Runs election_tile over all tiles; fn(c, B, t0, m) consumes each tile.
template <class Fn>
void election_pass(const Ctx& ctx, bool want_mk, Fn fn) {
  const Job& job = *ctx.job;
  std::vector<Bufs> bufs = make_bufs(ctx);
  job.pool->parallel_for_worker(ctx.nc, [&](uint64_t c, unsigned w) {
    check_cancel(job.cancel);
    Bufs& B = bufs[w];
    std::vector<uint32_t> tc(ctx.M);
    std::vector<uint64_t> budget(ctx.M);
    chunk_trim(ctx, c, tc.data(), budget.data());
    const uint64_t j1 = std::min(ctx.n, (c + 1) * kChunk);
    for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
      const uint64_t m = std::min(kTile, j1 - t0);
      election_tile(ctx, B, t0, m, tc.data(), budget.data(), want_mk);
      fn(c, B, t0, m);
    }
  });
}

SlackSummary summarize(const Ctx& ctx, const SlackRefineRequest* refine) {
  const Job& job = *ctx.job;
  const DType r = ctx.r;
  static_assert(kSlackFineBits <= 13, "F16 margins have exactly 13 zero low key bits");
  const uint32_t n_bins = refine ? (1u << kSlackFineBits) : (1u << (31 - kSlackFineBits));
  const unsigned nw = job.pool->size();
  std::vector<uint64_t> hist(n_bins, 0);
  std::vector<uint32_t> wh(uint64_t(nw) * n_bins);
  std::vector<uint64_t> nnz(ctx.nc, 0), ncand(ctx.nc, 0);
  const uint32_t want_bin = refine ? refine->coarse_bin : 0;
  const uint32_t fav = uint32_t(ctx.fav);
  // One election pass; per-worker u32 histograms cannot overflow since a
  // tensor is processed in batches of < 2^31 elements.
  std::vector<Bufs> bufs = make_bufs(ctx);
  for (uint64_t c0 = 0; c0 < ctx.nc; c0 += kChunksPerBatch) {
    const uint64_t c1 = std::min(ctx.nc, c0 + kChunksPerBatch);
    std::fill(wh.begin(), wh.end(), 0u);
    job.pool->parallel_for_worker(c1 - c0, [&](uint64_t t, unsigned w) {
      check_cancel(job.cancel);
      const uint64_t c = c0 + t;
      Bufs& B = bufs[w];
      std::vector<uint32_t> tc(ctx.M);
      std::vector<uint64_t> budget(ctx.M);
      chunk_trim(ctx, c, tc.data(), budget.data());
      uint32_t* h = wh.data() + uint64_t(w) * n_bins;
      const uint64_t j1 = std::min(ctx.n, (c + 1) * kChunk);
      for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
        const uint64_t m = std::min(kTile, j1 - t0);
        election_tile(ctx, B, t0, m, tc.data(), budget.data(), true);
        nnz[c] += t_nnz(B.dt(fav), m);
        const uint32_t* mk = B.mk();
        uint64_t cand = 0;
        for (uint64_t j = 0; j < m; ++j) {
          const uint32_t key = mk[j];
          if (key == kNoCandidate) continue;
          ++cand;
          const uint32_t cb = slack_coarse_bin(key);
          if (!refine) ++h[cb];
          else if (cb == want_bin) ++h[slack_fine_bin(key)];
        }
        ncand[c] += cand;
      }
    });
    for (unsigned w = 0; w < nw; ++w)
      for (uint32_t x = 0; x < n_bins; ++x) hist[x] += wh[uint64_t(w) * n_bins + x];
  }
  SlackSummary s;
  s.refinement = refine != nullptr;
  s.coarse_exact = r != DType::F32;  // margins are F16/BF16 values: 13+ zero low bits
  for (uint64_t c = 0; c < ctx.nc; ++c) { s.favored_nnz += nnz[c]; s.n_candidates += ncand[c]; }
  for (uint32_t x = 0; x < n_bins; ++x)
    if (hist[x]) { s.bins.push_back(x); s.counts.push_back(hist[x]); }
  return s;
}

// The fused merge / analysis pass.
void merge_pass(const Ctx& ctx, const SlackPlanForTensor* plan) {
  const Job& job = *ctx.job;
  const MergeParams& p = *job.p;
  const uint32_t M = ctx.M;
  const bool sv = plan != nullptr;
  const bool want_stats = job.stats != nullptr;
  const bool use_lambda = p.lambda != 1.0;
  const float lam = float(p.lambda);

  // ties_sv: reserved iff mk < cut_lt, plus budget_sv[c] candidates with mk == cutoff.
  uint32_t cut_lt = 0;
  std::vector<uint64_t> sv_keep;  // per chunk, only when the cutoff ties are split
  if (sv && plan->n_reserved > 0) {
    if (plan->take_at_cutoff == 0) cut_lt = plan->cutoff_key;
    else if (plan->take_at_cutoff >= plan->n_at_cutoff) cut_lt = plan->cutoff_key + 1;
    else {
      cut_lt = plan->cutoff_key;
      std::vector<uint64_t> eq(ctx.nc, 0);
      const uint32_t cutoff = plan->cutoff_key;
      election_pass(ctx, true, [&](uint64_t c, Bufs& B, uint64_t, uint64_t m) { eq[c] += t_count_eq(B.mk(), m, cutoff); });
      uint64_t total = 0;
      for (uint64_t c = 0; c < ctx.nc; ++c) total += eq[c];
      if (total != plan->n_at_cutoff)
        throw MergeError(ErrorCode::INTERNAL, "ties_sv: tensor data changed between pass 1 and pass 2");
      sv_keep.resize(ctx.nc);
      distribute_ties(sv_keep.data(), eq.data(), ctx.nc, plan->take_at_cutoff);
    }
  }

  std::vector<ModelTileStats> mstats(want_stats ? mul_size(ctx.nc, M, "stats") : 0);
  std::vector<TensorTileStats> tstats(want_stats ? ctx.nc : 0);
  std::vector<uint64_t> reserved(ctx.nc, 0), ncand(ctx.nc, 0);
  const uint32_t fav = sv ? uint32_t(ctx.fav) : 0;

  election_pass(ctx, sv, [&](uint64_t c, Bufs& B, uint64_t t0, uint64_t m) {
    float* maj = B.maj();
    if (sv) {
      const uint32_t* mk = B.mk();
      const float* wdf = B.wd(fav);
      reserved[c] += t_sv_reserve(maj, mk, wdf, cut_lt, m);
      if (!sv_keep.empty() && sv_keep[c] > 0) {  // split cutoff ties: lowest flat index first
        for (uint64_t j = 0; j < m && sv_keep[c] > 0; ++j)
          if (mk[j] == plan->cutoff_key) {
            maj[j] = wdf[j] > 0.f ? 1.f : -1.f;
            --sv_keep[c];
            ++reserved[c];
          }
      }
      if (want_stats) {
        uint64_t k = 0;
        for (uint64_t j = 0; j < m; ++j) k += mk[j] != kNoCandidate;
        ncand[c] += k;
      }
    }
    float* mixed = B.mixed();
    float* div = B.div();
    float* nc = B.nc();
    std::fill(mixed, mixed + m, 0.f);
    std::fill(div, div + m, 0.f);
    std::fill(nc, nc + m, 0.f);
    for (uint32_t i = 0; i < M; ++i) t_contrib(mixed, div, nc, B.wd(i), maj, job.wr[i], m);
    if (job.out) {
      float* res = B.res();
      t_finish(res, job.base + t0, mixed, div, m, ctx.r, p.normalize, use_lambda, lam);
      std::memcpy(job.out + t0, res, m * sizeof(float));  // out may alias an input: written after reading
    }
    if (want_stats) {
      float* pos = B.pos();
      float* neg = B.neg();
      std::fill(pos, pos + m, 0.f);
      std::fill(neg, neg + m, 0.f);
      for (uint32_t i = 0; i < M; ++i) t_signs(pos, neg, B.dt(i), m);
      for (uint32_t i = 0; i < M; ++i) t_model_stats(&mstats[c * M + i], B.dt(i), B.wd(i), maj, pos, neg, m);
      t_tensor_stats(&tstats[c], pos, neg, nc, maj, m);
    }
  });

  uint64_t total_reserved = 0;
  for (uint64_t c = 0; c < ctx.nc; ++c) total_reserved += reserved[c];
  if (sv && total_reserved != plan->n_reserved)
    throw MergeError(ErrorCode::INTERNAL, "ties_sv: reserved " + std::to_string(total_reserved) + " positions, plan says " +
                                              std::to_string(plan->n_reserved) + " (tensor changed between passes?)");

  if (!want_stats) return;
  TensorStats& ts = *job.stats;
  for (uint32_t i = 0; i < M; ++i) {
    ModelTensorStats& s = ts.models[i];
    const TrimModel& t = ctx.trim[i];
    s.trimmed = !t.all;
    s.k = t.k;
    s.threshold_valid = !t.all && !t.none;
    if (s.threshold_valid) {
      s.threshold = f32_from_bits(t.T);
      s.n_greater_than_threshold = t.n_greater;
      s.n_equal_to_threshold = t.n_equal;
      s.n_kept_at_threshold = t.kept_at;
    }
    for (uint64_t c = 0; c < ctx.nc; ++c) {  // chunk order: deterministic double sum
      const ModelTileStats& a = mstats[c * M + i];
      s.nnz_trimmed += a.nnz;
      s.n_contributing += a.contributing;
      s.n_discarded_by_sign_election += a.discarded;
      s.l1_discarded_by_sign_election += a.l1_discarded;
      s.in_conflict += a.in_conflict;
      s.conflicts_won += a.conflicts_won;
    }
  }
  for (uint64_t c = 0; c < ctx.nc; ++c) {
    ts.sign_conflicts += tstats[c].sign_conflicts;
    ts.n_positions_no_contributor += tstats[c].no_contributor;
    ts.n_majority_negative += tstats[c].majority_negative;
    ts.sv_candidates += ncand[c];
  }
  if (sv) {
    ts.sv_reserved = total_reserved;
    ts.models[fav].rescued = total_reserved;
  }
}

}  // namespace

void run_ties(const Job& job, const SlackPlanForTensor* sv_plan) {
  Ctx ctx = make_ctx(job);
  plan_trim(ctx);
  if (job.p->method != Method::TiesSV) {
    merge_pass(ctx, nullptr);
    return;
  }
  SlackPlanForTensor plan;
  if (job.p->slack_scope == SlackScope::Tensor) {
    // Same planner as model scope, over this one tensor.
    SlackPlanner planner(*job.p);
    planner.add("", summarize(ctx, nullptr));
    if (!planner.finish()) {
      planner.add_refinement("", summarize(ctx, &planner.refine_request()));
      if (!planner.finish()) throw MergeError(ErrorCode::INTERNAL, "ties_sv: planner did not converge");
    }
    plan = planner.plan_for("");
  } else {
    plan = *sv_plan;
  }
  merge_pass(ctx, &plan);
}

SlackSummary run_slack_summarize(const Job& job, const SlackRefineRequest* refine) {
  Ctx ctx = make_ctx(job);
  plan_trim(ctx);
  return summarize(ctx, refine);
}

}  // namespace ms::kern
