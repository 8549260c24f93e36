// See selection.h.
#include "kernels/selection.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "kernels/common.h"
#include "kernels/tie_order.h"
#include "kernels/tile_ops.h"
#include "topk.h"

namespace ms::kern {

int g_topk_mode = 0;
uint64_t g_topk_sample_min_n = uint64_t(1) << 19;  // below: histograms are cheap enough
std::atomic<uint64_t> g_topk_fallbacks{0};
std::atomic<uint64_t> g_tie_window_hits{0}, g_tie_window_misses{0};

namespace {

// Set bits of bitmap positions [a, b).
uint64_t count_bits(const uint64_t* bits, uint64_t a, uint64_t b) {
  uint64_t n = 0;
  for (uint64_t i = a; i < b;) {
    const uint64_t w = i >> 6, lo = i & 63, hi = std::min<uint64_t>(64, lo + (b - i));
    uint64_t word = bits[w] >> lo;
    if (hi - lo < 64) word &= (uint64_t(1) << (hi - lo)) - 1;
    n += uint64_t(__builtin_popcountll(word));
    i += hi - lo;
  }
  return n;
}

// Histogram pass over |delta| keys of the requested selections: bin_of(key, l)
// returns a bin in [0, n_bins) or -1. hist: reqs.size() * n_bins, u64. Keys
// are computed once per tile and model (requests of one model are adjacent).
template <class BinOf>
void delta_hist_pass(const SelCtx& ctx, const std::vector<SelReq>& reqs, uint32_t n_bins, BinOf bin_of,
                     std::vector<uint64_t>& hist) {
  const Job& job = *ctx.job;
  const uint64_t L = reqs.size();
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
          if (l == 0 || reqs[l].model != reqs[l - 1].model)
            t_delta_keys(kb, job.models[reqs[l].model] + t0, job.base + t0, m, ctx.r);
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

// Sweeps over BF16 data (many cuts per model): thresholds and chunk tie
// counts without a full histogram. A BF16 key is one level-1 bin (its low 16
// bits are zero), so a cut is decided by the number of keys above some bin and
// the keys per bin near the cut. A sample of kTopkSample keys predicts, per
// cut, a window of bins holding its k-th largest key (select_by_sample's
// margin); one pass counts, per chunk, the keys in each window bin and, per
// cut, the keys above its window. The cut's bin is then found by walking its
// window from the top, and its per-chunk count is the chunk tie count a cut
// keeping only some ties needs (lowest index first: distribute_ties), so no
// tie-count pass follows. Cuts whose window is too wide, or whose k-th key
// falls outside it, are returned for the histogram path (same results).
constexpr uint32_t kMaxWindowBins = 256;    // per cut
constexpr uint32_t kMaxWindowSlots = 4096;  // per model (bins of all its windows)
// Keys in a model's window range but in no window bin (gaps between windows)
// go to kSpill scratch counters picked by element index: one shared counter
// would chain every increment.
constexpr uint32_t kSpill = 8;

// cc[slot_of[key >> 16]] += 1 per key (spill slots for slot 0), branch-free.
void count_window_bins(uint32_t* __restrict cc, const uint16_t* __restrict slot_of, const uint32_t* __restrict keys,
                       uint64_t m) {
  for (uint64_t j = 0; j < m; ++j) {
    const uint32_t s = slot_of[keys[j] >> 16];
    const uint32_t uncounted = 0u - uint32_t(s == 0);  // all ones or 0
    ++cc[s | (uint32_t(j) & (kSpill - 1) & uncounted)];
  }
}

std::vector<SelReq> select_by_windows(const SelCtx& ctx, const std::vector<SelReq>& reqs) {
  const Job& job = *ctx.job;
  const uint64_t n = ctx.n, nc = ctx.nc, S = kTopkSample, L = reqs.size();
  constexpr uint32_t kBins = kTopkHiBins / 2;  // BF16 keys: key >> 16 < 2^15
  struct Window { bool used = false; uint32_t lo = 0, hi = 0; };  // bins, inclusive
  struct ModelWindows {
    uint32_t model = 0;
    std::vector<uint64_t> cuts;   // request indices with a window
    uint32_t lo = kBins, hi = 0;  // union range of their windows
    std::vector<uint16_t> slot_of;
    uint32_t stride = kSpill;
    std::vector<uint32_t> per_chunk;  // nc * stride
  };
  std::vector<Window> win(L);
  std::vector<ModelWindows> mws;
  for (uint64_t l = 0; l < L; ++l)
    if (l == 0 || reqs[l].model != reqs[l - 1].model) {
      mws.emplace_back();
      mws.back().model = reqs[l].model;
    }
  // Each model's sample keys, sorted descending (one model per task).
  std::vector<std::vector<uint32_t>> samples(mws.size());
  job.pool->parallel_for(mws.size(), [&](uint64_t i) {
    std::vector<uint32_t>& sk = samples[i];
    sk.resize(S);
    const float* x = job.models[mws[i].model];
    for (uint64_t s = 0; s < S; ++s) {
      const uint64_t j = topk_sample_position(s, n);
      sk[s] = mag_key(round_to(ctx.r, x[j] - job.base[j]));
    }
    std::sort(sk.begin(), sk.end(), std::greater<uint32_t>());
  });
  for (uint64_t l = 0, mi = 0; l < L; ++l) {
    if (l > 0 && reqs[l].model != reqs[l - 1].model) ++mi;
    ModelWindows& mw = mws[mi];
    const std::vector<uint32_t>& sk = samples[mi];
    const double p = double(reqs[l].t->k) / double(n), center = p * double(S);
    const double margin = 5.0 * std::sqrt(double(S) * p * (1.0 - p)) + 8.0;
    const int64_t r_hi = int64_t(std::floor(center - margin)), r_lo = int64_t(std::ceil(center + margin));
    const uint32_t hi = r_hi < 0 ? kBins - 1 : sk[size_t(r_hi)] >> 16;
    const uint32_t lo = r_lo >= int64_t(S) ? 0u : sk[size_t(r_lo)] >> 16;
    if (lo == 0 || hi - lo + 1 > kMaxWindowBins) continue;  // bin 0 (zero deltas) or too wide: histograms
    win[l] = {true, lo, hi};
    mw.cuts.push_back(l);
    mw.lo = std::min(mw.lo, lo);
    mw.hi = std::max(mw.hi, hi);
  }
  for (ModelWindows& mw : mws) {
    if (mw.cuts.empty()) continue;
    mw.slot_of.assign(kBins, 0);
    for (uint64_t l : mw.cuts)
      for (uint32_t b = win[l].lo; b <= win[l].hi; ++b) mw.slot_of[b] = 1;
    uint32_t slots = 0;
    for (uint32_t b = mw.lo; b <= mw.hi; ++b)
      if (mw.slot_of[b]) mw.slot_of[b] = uint16_t(kSpill + slots++);
    if (slots > kMaxWindowSlots) {  // never with <= 256 bins x a handful of cuts; stay exact anyway
      for (uint64_t l : mw.cuts) win[l].used = false;
      mw.cuts.clear();
      continue;
    }
    mw.stride = kSpill + slots;
    mw.per_chunk.assign(mul_size(nc, mw.stride, "tie windows"), 0);
  }

  std::vector<uint64_t> above(mul_size(nc, L, "window counts"), 0);  // per chunk and cut: keys above the window
  const unsigned nw = job.pool->size();
  std::vector<uint32_t> keys(uint64_t(nw) * kTile), inside(uint64_t(nw) * kTile);
  job.pool->parallel_for_worker(nc, [&](uint64_t c, unsigned w) {
    check_cancel(job.cancel);
    const uint64_t j1 = std::min(n, (c + 1) * kChunk);
    uint32_t* kb = keys.data() + uint64_t(w) * kTile;
    uint32_t* ib = inside.data() + uint64_t(w) * kTile;
    for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
      const uint64_t m = std::min(kTile, j1 - t0);
      for (ModelWindows& mw : mws) {
        if (mw.cuts.empty()) continue;
        t_delta_keys(kb, job.models[mw.model] + t0, job.base + t0, m, ctx.r);
        for (uint64_t l : mw.cuts) above[c * L + l] += t_count_gt(kb, m, (win[l].hi << 16) | 0xffffu);
        // keys with bin in [mw.lo, mw.hi] (mw.lo >= 1, mw.hi <= 0x7fff: no wrap-around)
        const uint64_t got = t_collect_between(ib, kb, m, (mw.lo << 16) - 1, ((mw.hi << 16) | 0xffffu) + 1);
        count_window_bins(mw.per_chunk.data() + c * mw.stride, mw.slot_of.data(), ib, got);
      }
    }
  });

  std::vector<SelReq> rest;
  size_t m_idx = 0;
  for (uint64_t l = 0; l < L; ++l) {
    while (mws[m_idx].model != reqs[l].model) ++m_idx;
    const ModelWindows& mw = mws[m_idx];
    TrimModel& t = *reqs[l].t;
    bool found = false;
    if (win[l].used) {
      uint64_t greater = 0;
      for (uint64_t c = 0; c < nc; ++c) greater += above[c * L + l];
      for (uint32_t b = win[l].hi + 1; b-- > win[l].lo && greater < t.k;) {
        const uint32_t slot = mw.slot_of[b];
        uint64_t in_bin = 0;
        for (uint64_t c = 0; c < nc; ++c) in_bin += mw.per_chunk[c * mw.stride + slot];
        if (greater + in_bin >= t.k) {
          t.T = b << 16;
          t.n_greater = greater;
          t.n_equal = in_bin;
          t.eq_chunk.resize(nc);
          for (uint64_t c = 0; c < nc; ++c) t.eq_chunk[c] = mw.per_chunk[c * mw.stride + slot];
          found = true;
          break;
        }
        greater += in_bin;
      }
    }
    if (found) {
      ++g_tie_window_hits;
    } else {
      ++g_tie_window_misses;
      rest.push_back(reqs[l]);
    }
  }
  return rest;
}

// Exact threshold by histograms (A1, A2) for the requested selections.
void select_by_histogram(const SelCtx& ctx, const std::vector<SelReq>& reqs) {
  if (reqs.empty()) return;
  const uint64_t L = reqs.size();
  // Level 1 does not depend on k: one histogram per model serves all its cuts.
  std::vector<SelReq> per_model;
  std::vector<uint64_t> hist_of(L);
  for (uint64_t l = 0; l < L; ++l) {
    if (l == 0 || reqs[l].model != reqs[l - 1].model) per_model.push_back(reqs[l]);
    hist_of[l] = per_model.size() - 1;
  }
  // BF16 keys have 16 zero low bits: key >> 16 is exact and the table 4x smaller
  // (stays in L2); otherwise key >> 15 plus a level-2 pass.
  const bool bf16 = ctx.r == DType::BF16;
  const uint32_t shift = bf16 ? 16 : 15;
  const uint32_t n_bins1 = bf16 ? kTopkHiBins / 2 : kTopkHiBins;
  std::vector<uint64_t> h1;
  delta_hist_pass(ctx, per_model, n_bins1, [shift](uint32_t key, uint64_t) -> int64_t { return key >> shift; }, h1);
  std::vector<uint32_t> bin1(L);
  std::vector<uint64_t> above1(L);
  for (uint64_t l = 0; l < L; ++l) {
    TrimModel& t = *reqs[l].t;
    const BinPick p = pick_from_top(h1.data() + hist_of[l] * n_bins1, n_bins1, t.k);
    bin1[l] = p.bin;
    above1[l] = p.before;
    t.T = p.bin << shift;
    t.n_greater = p.before;
    t.n_equal = p.in_bin;
  }
  // A2: level 2 unless level 1 is exact (BF16 values: low 16 key bits are zero).
  if (!bf16) {
    std::vector<uint64_t> h2;
    delta_hist_pass(ctx, reqs, kTopkLoBins, [&bin1](uint32_t key, uint64_t l) -> int64_t {
      return (key >> 15) == bin1[l] ? int64_t(key & 0x7fffu) : -1;
    }, h2);
    for (uint64_t l = 0; l < L; ++l) {
      TrimModel& t = *reqs[l].t;
      const BinPick p = pick_from_top(h2.data() + l * kTopkLoBins, kTopkLoBins, t.k - above1[l]);
      t.T = (bin1[l] << 15) | p.bin;
      t.n_greater = above1[l] + p.before;
      t.n_equal = p.in_bin;
    }
  }
}

// Sampled-window selection (pass S). Returns, per request, whether it
// succeeded; on success t.T, n_greater, n_equal and t.eq_chunk are set.
std::vector<bool> select_by_sample(const SelCtx& ctx, const std::vector<SelReq>& reqs) {
  const Job& job = *ctx.job;
  const uint64_t L = reqs.size(), n = ctx.n, S = kTopkSample;
  std::vector<bool> ok(L, false);
  struct Win { uint32_t lo, hi; bool count_only; };
  std::vector<Win> win(L);
  std::vector<uint32_t> sk(S);
  for (uint64_t l = 0; l < L; ++l) {
    const TrimModel& t = *reqs[l].t;
    const float* x = job.models[reqs[l].model];
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
  const uint64_t cap = std::max<uint64_t>(n / 8, kChunk);  // memory bound for collected keys, per request
  std::vector<uint32_t> keys(uint64_t(job.pool->size()) * kTile);
  job.pool->parallel_for_worker(nc, [&](uint64_t c, unsigned w) {
    check_cancel(job.cancel);
    const uint64_t j1 = std::min(n, (c + 1) * kChunk);
    uint32_t* kb = keys.data() + uint64_t(w) * kTile;
    for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
      const uint64_t m = std::min(kTile, j1 - t0);
      int64_t keys_of = -1;  // model whose keys are in kb
      for (uint64_t l = 0; l < L; ++l) {
        if (failed[l].load(std::memory_order_relaxed)) continue;
        if (keys_of != int64_t(reqs[l].model)) {
          t_delta_keys(kb, job.models[reqs[l].model] + t0, job.base + t0, m, ctx.r);
          keys_of = reqs[l].model;
        }
        const Win wl = win[l];
        const uint64_t x = c * L + l;
        gt[x] += t_count_gt(kb, m, wl.hi);
        eq_hi[x] += t_count_eq(kb, m, wl.hi);
        if (wl.count_only) continue;
        eq_lo[x] += t_count_eq(kb, m, wl.lo);
        std::vector<uint32_t>& v = coll[x];
        const size_t old = v.size();
        v.resize(old + m);
        const uint64_t got = t_collect_between(v.data() + old, kb, m, wl.lo, wl.hi);
        v.resize(old + got);
        if (total[l].fetch_add(got) + got > cap) failed[l] = true;
      }
    }
  });
  for (uint64_t l = 0; l < L; ++l) {
    if (failed[l]) continue;
    TrimModel& t = *reqs[l].t;
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

}  // namespace

void run_selections(const SelCtx& ctx, std::vector<SelReq>& reqs) {
  const Job& job = *ctx.job;
  if (reqs.empty()) return;
  std::vector<SelReq> hist_reqs;
  if (g_topk_mode != 1 && !ctx.prefer_histograms && ctx.n >= std::max(g_topk_sample_min_n, 4 * kTopkSample)) {
    const std::vector<bool> ok = select_by_sample(ctx, reqs);
    for (size_t l = 0; l < reqs.size(); ++l)
      if (!ok[l]) hist_reqs.push_back(reqs[l]);
    g_topk_fallbacks += hist_reqs.size();
  } else if (ctx.r == DType::BF16 && ctx.prefer_histograms && ctx.n >= 4 * kTopkSample && g_topk_mode != 1) {
    hist_reqs = select_by_windows(ctx, reqs);
  } else {
    hist_reqs = reqs;
  }
  select_by_histogram(ctx, hist_reqs);

  std::vector<SelReq> part;  // selections that keep only some threshold ties and lack chunk counts
  for (SelReq& q : reqs) {
    TrimModel& t = *q.t;
    t.kept_at = t.k - t.n_greater;
    t.partial = t.kept_at < t.n_equal;
    if (t.partial && t.eq_chunk.empty()) part.push_back(q);
  }
  if (!part.empty()) {
    // A3: per-chunk tie counts for selections that keep only some threshold ties.
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
          if (q == 0 || part[q].model != part[q - 1].model)
            t_delta_keys(kb, job.models[part[q].model] + t0, job.base + t0, m, ctx.r);
          eq[c * P + q] += t_count_eq(kb, m, part[q].t->T);
        }
      }
    });
    for (uint64_t q = 0; q < P; ++q) {
      TrimModel& t = *part[q].t;
      t.eq_chunk.resize(ctx.nc);
      for (uint64_t c = 0; c < ctx.nc; ++c) t.eq_chunk[c] = eq[c * P + q];
    }
  }
  if (ctx.rule == TieRule::Mergekit) {
    // One introsort chain per model resolves all its partial cuts (they share the ranking).
    for (size_t a = 0; a < reqs.size();) {
      size_t b = a;
      std::vector<TrimModel*> cuts;
      for (; b < reqs.size() && reqs[b].model == reqs[a].model; ++b)
        if (reqs[b].t->partial) cuts.push_back(reqs[b].t);
      resolve_mergekit_ties(ctx, reqs[a].model, cuts);
      a = b;
    }
  }
  for (SelReq& q : reqs) {
    TrimModel& t = *q.t;
    if (!t.partial) continue;
    t.keep_chunk.resize(ctx.nc);
    if (ctx.rule == TieRule::Index) {
      distribute_ties(t.keep_chunk.data(), t.eq_chunk.data(), ctx.nc, t.kept_at);
      continue;
    }
    uint64_t total = 0;
    for (uint64_t c = 0; c < ctx.nc; ++c) {
      t.keep_chunk[c] = count_bits(t.tie_bits.data(), t.eq_before[c], t.eq_before[c] + t.eq_chunk[c]);
      total += t.keep_chunk[c];
    }
    if (total != t.kept_at)
      throw MergeError(ErrorCode::INTERNAL, "mergekit tie order: kept " + std::to_string(total) + " threshold ties, expected " +
                                                std::to_string(t.kept_at));
  }
}

}  // namespace ms::kern
