// The trim / election family: ties and ties_sv (magnitude top-k), breadcrumbs
// and breadcrumbs_ties (magnitude outliers: a second top-k cut removes the
// largest entries), dare_linear and dare_ties (random mask with L1 rescale:
// counter-based, or mergekit's MT19937 stream), della and della_linear
// (magnitude-ranked random mask from mergekit's stream, L1 rescale).
// *_ties / ties* / della elect a sign; breadcrumbs, dare_linear and
// della_linear do not (every entry contributes, the divisor is the sum of
// all weights).
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
//   L1  dare with rescale: per-tile sums of |delta| (all / kept) for the ratio
//   R   mergekit stream (della*, dare* with RandomStream::Mergekit): each
//       trimmed model's keep bits from the run's MT19937 (models in recipe
//       order) and its L1 ratio from torch-ordered sums (random_trim.h)
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
#include "kernels/dare_rng.h"
#include "kernels/kernels.h"
#include "kernels/mt19937.h"
#include "kernels/random_trim.h"
#include "kernels/selection.h"
#include "kernels/tile_ops.h"
#include "topk.h"

namespace ms::kern {

namespace {

enum class Sparsify : uint8_t { Magnitude, Outliers, Random, Della };

// breadcrumbs: the removed outliers of one model (a top-k cut of its own).
struct TopCut {
  bool active = false;     // n_top > 0 and the model is trimmed
  bool dropped = false;    // mergekit edge case: n_top == 0 dropped the whole task vector
  TrimModel cut;           // k = n_top
};

// dare: the random mask of one model.
struct DareModel {
  bool active = false;     // density < 1
  uint64_t stream = 0, thr = 0;
  bool scale = false;      // rescale applies (sums above eps)
  float ratio = 1;
};

struct Ctx : SelCtx {
  uint32_t M = 0;
  Sparsify kind = Sparsify::Magnitude;
  bool elect = true;       // false: breadcrumbs, dare_linear (every entry contributes)
  bool sum = true;
  int fav = -1;            // favored model (ties_sv)
  std::vector<TrimModel> trim;   // kept set (Magnitude, Outliers); all = true for Random
  std::vector<TopCut> top;       // Outliers
  std::vector<DareModel> dare;   // Random (counter generator)
  std::vector<StreamMask> stream;  // Della, Random with the mergekit stream
  bool from_stream = false;        // masks come from `stream`
  bool masks = false;              // record models 0 and 1's kept positions (geometry's mask overlap)
};

// Per-worker tile scratch.
struct Bufs {
  std::vector<float> f;
  std::vector<uint32_t> u;
  uint32_t M = 0;
  void init(uint32_t m) {
    M = m;
    f.assign(uint64_t(3 * m + 10) * kTile, 0.f);
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
  float* raw(uint32_t i) { return extra(8 + i); }        // untrimmed delta (geometry)
  float* keep(uint32_t i) { return extra(8 + M + i); }   // kept positions, models 0 and 1 (geometry)
  uint32_t* keys() { return u.data(); }
  uint32_t* mk() { return u.data() + kTile; }
};

Ctx make_ctx(const Job& job) {
  Ctx ctx;
  ctx.job = &job;
  ctx.rule = job.p->tie_order == TieOrder::Index ? TieRule::Index : TieRule::Mergekit;
  ctx.r = job.p->compute;
  ctx.M = job.n_models;
  ctx.n = job.n;
  ctx.nc = n_chunks(job.n);
  ctx.sum = job.p->consensus == Consensus::Sum;
  ctx.elect = method_elects(job.p->method);
  switch (job.p->method) {
    case Method::Breadcrumbs: case Method::BreadcrumbsTies:
      ctx.kind = Sparsify::Outliers;
      ctx.ascending = true;  // mergekit: sort(|delta|) ascending, keep [n_bot, n - n_top)
      break;
    case Method::DareLinear: case Method::DareTies: ctx.kind = Sparsify::Random; break;
    case Method::Della: case Method::DellaLinear: ctx.kind = Sparsify::Della; break;
    default: ctx.kind = Sparsify::Magnitude; break;
  }
  ctx.from_stream = ctx.kind == Sparsify::Della || (ctx.kind == Sparsify::Random && job.p->random == RandomStream::Mergekit);
  if (job.p->method == Method::TiesSV)
    for (uint32_t i = 0; i < ctx.M; ++i)
      if (job.mp[i].favored) ctx.fav = int(i);
  return ctx;
}


// k = int(density * numel): float64 product, truncated.
uint64_t k_of(double density, uint64_t n) {
  const uint64_t k = uint64_t(density * double(n));
  return k > n ? n : k;  // cannot happen for density < 1; defensive
}

// Draws the stream masks of the trimmed models, in recipe order (mergekit
// sparsifies the task vectors in that order, one draw per element each).
void plan_stream(Ctx& ctx) {
  const Job& job = *ctx.job;
  ctx.stream.assign(ctx.M, StreamMask{});
  Mt19937 local(job.p->seed);  // without the run's generator: seeded for this tensor alone
  Mt19937& mt = job.p->mt ? *job.p->mt : local;
  KernelScratch* sc = job.p->scratch;
  if (sc && sc->keep_bits.size() < ctx.M) sc->keep_bits.resize(ctx.M);
  for (uint32_t i = 0; i < ctx.M; ++i) {
    const double d = job.mp[i].density;
    if (d >= 1.0) continue;  // mergekit returns the task vector untouched: no draws
    GrowBuffer* bits = sc ? &sc->keep_bits[i] : nullptr;
    if (ctx.kind == Sparsify::Random) {
      stream_bernoulli(job, i, d, mt, bits, &ctx.stream[i]);
    } else if (d <= 0.0 || ctx.n == 0) {
      ctx.trim[i].all = false;  // della_magprune returns zeros before drawing (an empty tensor: nothing to draw)
      ctx.trim[i].none = true;
      ctx.trim[i].k = 0;
    } else {
      stream_della(job, i, d, job.mp[i].epsilon, mt, bits, sc ? &sc->keep_limits : nullptr, &ctx.stream[i]);
    }
  }
}

void plan_trim(Ctx& ctx) {
  const Job& job = *ctx.job;
  ctx.trim.assign(ctx.M, TrimModel{});
  ctx.top.assign(ctx.M, TopCut{});
  ctx.dare.assign(ctx.M, DareModel{});
  if (ctx.from_stream) {
    for (TrimModel& t : ctx.trim) t.k = ctx.n;
    plan_stream(ctx);
    return;
  }
  std::vector<SelReq> reqs;
  for (uint32_t i = 0; i < ctx.M; ++i) {
    TrimModel& t = ctx.trim[i];
    const double d = job.mp[i].density;
    t.all = true;
    t.k = ctx.n;
    if (d >= 1.0) continue;
    if (ctx.kind == Sparsify::Random) {
      DareModel& dm = ctx.dare[i];
      dm.active = true;
      dm.stream = dare_stream_of(job.p->seed, job.p->tensor_key, i);
      dm.thr = dare_threshold_of(d);
      continue;  // t stays "keep all": the mask is applied after the delta
    }
    t.all = false;
    uint64_t keep_k = k_of(d, ctx.n);
    if (ctx.kind == Sparsify::Outliers) {
      // mergekit magnitude_outliers: keep ascending ranks [n_bot, numel - n_top)
      const uint64_t target = keep_k;
      int64_t n_top = int64_t(uint64_t(job.mp[i].gamma * double(ctx.n)));
      const int64_t n_bot = int64_t(ctx.n) - int64_t(target) - n_top;
      if (n_bot < 0) n_top += n_bot;
      TopCut& tc = ctx.top[i];
      if (n_top == 0 && !job.p->keep_if_no_outliers) {
        tc.dropped = true;  // slice [n_bot:-0] is empty in mergekit
        keep_k = 0;
      } else if (n_top > 0) {
        tc.active = true;
        tc.cut.all = false;
        tc.cut.k = uint64_t(n_top);
        keep_k = target + uint64_t(n_top);  // the lower cut: top-(n_top + target); the top n_top are removed
        reqs.push_back({i, &tc.cut});
      }
    }
    t.k = keep_k;
    if (t.k == 0) { t.none = true; continue; }
    reqs.push_back({i, &t});
  }
  std::stable_sort(reqs.begin(), reqs.end(), [](const SelReq& a, const SelReq& b) { return a.model < b.model; });
  run_selections(ctx, reqs);
}


// Removes model i's top outliers from dt (breadcrumbs): entries in the
// top-n_top cut become 0 (`top`: chunk_cut of that cut).
void cut_top_tile(const Ctx& ctx, float* dt, const float* x, const float* b, uint64_t m, ChunkCut& top) {
  t_cut_top(dt, m, top.tc);
  if (!top.partial()) return;
  for (uint64_t j = 0; j < m; ++j)
    if (mag_key(round_to(ctx.r, x[j] - b[j])) == top.T && top.take_tie()) dt[j] = 0.f;
}

// One tile up to the election: dt_i, wd_i, acc (sum / count; the plain sum of
// wd when there is no election), maj, and the ties_sv margin keys if want_mk.
// cut / top: chunk_cut of each model's kept set / top outliers (advanced
// through the tile). kept: per model, adds the number of DARE-kept positions.
void election_tile(const Ctx& ctx, Bufs& B, uint64_t t0, uint64_t m, ChunkCut* cut, ChunkCut* top, uint64_t* kept,
                   bool want_mk) {
  const Job& job = *ctx.job;
  const float* b = job.base + t0;
  float* acc = B.acc();
  const bool count = ctx.elect && !ctx.sum;
  std::fill(acc, acc + m, 0.f);
  for (uint32_t i = 0; i < ctx.M; ++i) {
    const float* x = job.models[i] + t0;
    float* dt = B.dt(i);
    const bool dare = !ctx.from_stream && ctx.kind == Sparsify::Random && ctx.dare[i].active;
    const bool masked = ctx.from_stream && ctx.stream[i].active;
    const bool cut_top = ctx.kind == Sparsify::Outliers && ctx.top[i].active;
    // Kept positions: tc == 0 keeps the whole chunk; else a kept entry's key is >= tc > 0, so it
    // is non-zero -- except threshold ties of magnitude 0, marked as they are taken below.
    float* keep = ctx.masks && i < 2 ? B.keep(i) : nullptr;
    if (!cut[i].partial() && !cut_top && !dare && !masked) {  // common case: one fused loop
      t_trim_weigh(dt, B.wd(i), acc, x, b, m, ctx.r, cut[i].tc, job.wr[i], count);
      if (keep) t_kept(keep, dt, m, cut[i].tc == 0);
      continue;
    }
    t_delta_trim(dt, x, b, m, ctx.r, cut[i].tc);
    if (keep) t_kept(keep, dt, m, cut[i].tc == 0);
    if (cut[i].partial()) {  // chunks where only some threshold ties are kept
      ChunkCut& k = cut[i];
      for (uint64_t j = 0; j < m && k.partial(); ++j) {
        const float d = round_to(ctx.r, x[j] - b[j]);
        if (mag_key(d) == k.T && k.take_tie()) {
          dt[j] = d;
          if (keep) keep[j] = 1.f;
        }
      }
    }
    if (cut_top) cut_top_tile(ctx, dt, x, b, m, top[i]);
    if (dare) {
      const DareModel& dm = ctx.dare[i];
      kept[i] += t_dare_mask(dt, dm.stream, t0, m, dm.thr, dm.scale, dm.ratio, ctx.r);
    }
    if (masked) {
      const StreamMask& sm = ctx.stream[i];
      t_keep_bits(dt, sm.bits, t0, m, sm.scale, sm.ratio, ctx.r);
    }
    if (count) t_weigh_count(B.wd(i), acc, dt, job.wr[i], m, ctx.r);
    else t_weigh_sum(B.wd(i), acc, dt, job.wr[i], m, ctx.r);
  }
  if (ctx.elect) t_majority(B.maj(), acc, m, ctx.sum ? ctx.r : DType::F32);
  if (want_mk) t_sv_margin(B.mk(), acc, B.wd(uint32_t(ctx.fav)), B.maj(), m, ctx.r);
}

std::vector<Bufs> make_bufs(const Ctx& ctx) {
  std::vector<Bufs> v(ctx.job->pool->size());
  for (auto& b : v) b.init(ctx.M);
  return v;
}

// Per-chunk trim state of every model (see election_tile).
struct ChunkTrim {
  std::vector<ChunkCut> cut, top;
  std::vector<uint64_t> kept;
  ChunkTrim(const Ctx& ctx, uint64_t c) : cut(ctx.M), top(ctx.M), kept(ctx.M, 0) {
    for (uint32_t i = 0; i < ctx.M; ++i) cut[i] = chunk_cut(ctx.trim[i], c);
    if (ctx.kind == Sparsify::Outliers)
      for (uint32_t i = 0; i < ctx.M; ++i) top[i] = chunk_cut(ctx.top[i].cut, c);
  }
};

// Runs election_tile over all tiles; fn(c, B, t0, m) consumes each tile and
// done(c, chunk_trim) each chunk.
template <class Fn, class Done>
void election_pass(const Ctx& ctx, bool want_mk, Fn fn, Done done) {
  const Job& job = *ctx.job;
  std::vector<Bufs> bufs = make_bufs(ctx);
  job.pool->parallel_for_worker(ctx.nc, [&](uint64_t c, unsigned w) {
    check_cancel(job.cancel);
    Bufs& B = bufs[w];
    ChunkTrim ct(ctx, c);
    const uint64_t j1 = std::min(ctx.n, (c + 1) * kChunk);
    for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
      const uint64_t m = std::min(kTile, j1 - t0);
      election_tile(ctx, B, t0, m, ct.cut.data(), ct.top.data(), ct.kept.data(), want_mk);
      fn(c, B, t0, m);
    }
    done(c, ct);
  });
}
template <class Fn>
void election_pass(const Ctx& ctx, bool want_mk, Fn fn) {
  election_pass(ctx, want_mk, fn, [](uint64_t, const ChunkTrim&) {});
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
      ChunkTrim ct(ctx, c);
      uint32_t* h = wh.data() + uint64_t(w) * n_bins;
      const uint64_t j1 = std::min(ctx.n, (c + 1) * kChunk);
      for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
        const uint64_t m = std::min(kTile, j1 - t0);
        election_tile(ctx, B, t0, m, ct.cut.data(), ct.top.data(), ct.kept.data(), true);
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

// Task-vector geometry of one tile (after election_tile): the untrimmed deltas -- a model kept
// whole by a magnitude trim already holds them in dt -- summed into g (models 0 and 1, their
// masks when ctx.masks) and sq[i] (models i >= 2; null when M <= 2).
void geometry_tile(const Ctx& ctx, Bufs& B, uint64_t t0, uint64_t m, GeometryTileStats* g, double* sq) {
  const Job& job = *ctx.job;
  auto raw = [&](uint32_t i) -> const float* {
    if (ctx.kind == Sparsify::Magnitude && ctx.trim[i].all) return B.dt(i);
    t_delta_trim(B.raw(i), job.models[i] + t0, job.base + t0, m, ctx.r, 0);
    return B.raw(i);
  };
  if (ctx.M == 1) {
    g->sum_sq0 += t_sum_sq(raw(0), m);
    return;
  }
  const bool masks = ctx.masks;
  t_geometry(g, raw(0), raw(1), masks ? B.keep(0) : nullptr, masks ? B.keep(1) : nullptr, m);
  for (uint32_t i = 2; i < ctx.M; ++i) sq[i] += t_sum_sq(raw(i), m);
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

  // No election: one divisor for all positions, as task_arithmetic.
  float wsum = 0.f;
  for (uint32_t i = 0; i < M; ++i) wsum += job.wr[i];
  wsum = round_to(ctx.r, wsum);
  if (std::fabs(wsum) < 1e-8f) wsum = 1.f;  // mergekit: divisor[divisor.abs() < 1e-8] = 1
  std::vector<uint64_t> kept(ctx.kind == Sparsify::Random ? mul_size(ctx.nc, M, "dare counts") : 0, 0);

  std::vector<ModelTileStats> mstats(want_stats ? mul_size(ctx.nc, M, "stats") : 0);
  std::vector<TensorTileStats> tstats(want_stats ? ctx.nc : 0);
  std::vector<uint64_t> reserved(ctx.nc, 0);
  std::vector<MarginTileCounts> margins(want_stats && sv ? ctx.nc : 0);  // ties_sv: per chunk
  const uint32_t fav = sv ? uint32_t(ctx.fav) : 0;
  // Task-vector geometry (merge_kernels.h): per chunk, models 0/1 in gstats, the others in gsq.
  std::vector<GeometryTileStats> gstats(want_stats ? ctx.nc : 0);
  std::vector<double> gsq(want_stats && M > 2 ? mul_size(ctx.nc, M, "geometry") : 0, 0.0);

  election_pass(ctx, sv, [&](uint64_t c, Bufs& B, uint64_t t0, uint64_t m) {
    // before the output is written: `out` may alias the base or a model
    if (want_stats) geometry_tile(ctx, B, t0, m, &gstats[c], M > 2 ? &gsq[c * M] : nullptr);
    float* maj = B.maj();
    if (sv) {
      const uint32_t* mk = B.mk();
      const float* wdf = B.wd(fav);
      reserved[c] += t_sv_reserve(maj, mk, wdf, cut_lt, m);
      uint64_t picked = 0;  // split cutoff ties: lowest flat index first
      for (uint64_t j = 0; j < m && !sv_keep.empty() && sv_keep[c] > 0; ++j)
        if (mk[j] == plan->cutoff_key) {
          maj[j] = wdf[j] > 0.f ? 1.f : -1.f;
          --sv_keep[c];
          ++picked;
        }
      reserved[c] += picked;
      if (want_stats) {  // margins of the candidates (mk < cut_lt reserved, plus the picked cutoff ties)
        MarginTileCounts& mc = margins[c];
        t_margin_tile(&mc, mk, m, cut_lt, plan->cutoff_key);
        mc.reserved[margin_bin(plan->cutoff_key)] += picked;
        mc.taken_at_cutoff += picked;
      }
    }
    float* mixed = B.mixed();
    float* div = B.div();
    float* nc = B.nc();
    std::fill(nc, nc + m, 0.f);
    if (ctx.elect) {
      std::fill(mixed, mixed + m, 0.f);
      std::fill(div, div + m, 0.f);
      for (uint32_t i = 0; i < M; ++i) t_contrib(mixed, div, nc, B.wd(i), maj, job.wr[i], m);
    }
    if (job.out) {
      float* res = B.res();
      if (ctx.elect) t_finish(res, job.base + t0, mixed, div, m, ctx.r, p.normalize, use_lambda, lam);
      else t_finish_scalar(res, job.base + t0, B.acc(), wsum, m, ctx.r, p.normalize, use_lambda, lam);
      std::memcpy(job.out + t0, res, m * sizeof(float));  // out may alias an input: written after reading
    }
    if (want_stats) {
      float* pos = B.pos();
      float* neg = B.neg();
      std::fill(pos, pos + m, 0.f);
      std::fill(neg, neg + m, 0.f);
      for (uint32_t i = 0; i < M; ++i) t_signs(pos, neg, B.dt(i), m);
      if (ctx.elect) {
        for (uint32_t i = 0; i < M; ++i) t_model_stats(&mstats[c * M + i], B.dt(i), B.wd(i), maj, pos, neg, m);
      } else {
        // No election: each non-zero weighted entry "elects" its own sign, so it contributes.
        float* own = B.res();
        for (uint32_t i = 0; i < M; ++i) {
          t_sign_of(own, B.wd(i), m);
          t_contrib(mixed, div, nc, B.wd(i), own, job.wr[i], m);  // only nc is used
          t_model_stats(&mstats[c * M + i], B.dt(i), B.wd(i), own, pos, neg, m);
        }
        std::fill(maj, maj + m, 1.f);  // no elected sign: never "majority negative"
      }
      t_tensor_stats(&tstats[c], pos, neg, nc, maj, m);
    }
  }, [&](uint64_t c, const ChunkTrim& ct) {
    if (ctx.kind == Sparsify::Random)
      for (uint32_t i = 0; i < M; ++i) kept[c * M + i] = ct.kept[i];
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
    if (ctx.kind == Sparsify::Outliers) {
      const TopCut& top = ctx.top[i];
      s.dropped_no_outliers = top.dropped;
      if (top.active) {
        s.n_top_removed = top.cut.k;
        s.top_threshold_valid = true;
        s.top_threshold = f32_from_bits(top.cut.T);
        s.k = t.k - top.cut.k;  // kept = top-(n_top + target) minus the top n_top
        s.threshold_valid = s.k > 0;
      }
    }
    if (ctx.from_stream && ctx.stream[i].active) {
      const StreamMask& sm = ctx.stream[i];
      s.trimmed = true;
      s.k = sm.kept;
      s.rescaled = sm.scale;
      s.rescale_factor = sm.ratio;
      s.has_random_draws = true;
      s.random_first_draw = sm.first_draw;
      s.random_draws = sm.draws;
      s.keep_probability_min = sm.p_min;
      s.keep_probability_max = sm.p_max;
    }
    if (ctx.from_stream && t.none) {  // della with density <= 0: zeros, no draws
      s.trimmed = true;
      s.k = 0;
    }
    if (!ctx.from_stream && ctx.kind == Sparsify::Random && ctx.dare[i].active) {
      const DareModel& dm = ctx.dare[i];
      s.trimmed = true;
      s.k = 0;
      for (uint64_t c = 0; c < ctx.nc; ++c) s.k += kept[c * M + i];
      s.rescaled = dm.scale;
      s.rescale_factor = dm.ratio;
    }
    if (s.threshold_valid) {
      s.threshold = f32_from_bits(t.T);
      s.n_greater_than_threshold = t.n_greater;
      s.n_equal_to_threshold = t.n_equal;
      s.n_kept_at_threshold = t.kept_at;
      // breadcrumbs: outliers removed at the same magnitude as the smallest kept entry were
      // counted by the lower cut's kept_at
      if (ctx.kind == Sparsify::Outliers && ctx.top[i].active && ctx.top[i].cut.T == t.T)
        s.n_kept_at_threshold -= ctx.top[i].cut.kept_at;
    }
    for (uint64_t c = 0; c < ctx.nc; ++c) {  // chunk order: deterministic double sum
      const ModelTileStats& a = mstats[c * M + i];
      if (!ctx.elect) {  // no election, nothing discarded by it (as task_arithmetic reports)
        s.nnz_trimmed += a.nnz;
        s.n_contributing += a.contributing;
        s.in_conflict += a.in_conflict;
        s.conflicts_won += a.conflicts_won;
        continue;
      }
      s.nnz_trimmed += a.nnz;
      s.n_contributing += a.contributing;
      s.n_discarded_by_sign_election += a.discarded;
      s.l1_discarded_by_sign_election += a.l1_discarded;
      s.in_conflict += a.in_conflict;
      s.conflicts_won += a.conflicts_won;
    }
  }
  ts.has_geometry = true;
  ts.has_pair = M >= 2;
  ts.has_mask_overlap = ctx.masks;
  for (uint64_t c = 0; c < ctx.nc; ++c) {  // chunk order: deterministic double sums
    const GeometryTileStats& g = gstats[c];
    ts.models[0].tv_sum_sq += g.sum_sq0;
    if (M >= 2) ts.models[1].tv_sum_sq += g.sum_sq1;
    for (uint32_t i = 2; i < M; ++i) ts.models[i].tv_sum_sq += gsq[c * M + i];
    if (ts.has_pair) {
      ts.tv_dot += g.dot;
      ts.n_both_nonzero += g.both_nonzero;
      ts.n_signs_agree += g.signs_agree;
    }
    if (ctx.masks) {
      ts.mask_intersection += g.mask_intersection;
      ts.mask_union += g.mask_union;
    }
  }
  for (uint64_t c = 0; c < ctx.nc; ++c) {
    ts.sign_conflicts += tstats[c].sign_conflicts;
    ts.n_positions_no_contributor += tstats[c].no_contributor;
    ts.n_majority_negative += tstats[c].majority_negative;
  }
  if (sv) {
    ts.sv_reserved = total_reserved;
    ts.models[fav].rescued = total_reserved;
    ts.has_margins = true;
    ts.margin_candidates.assign(kMarginBins, 0);
    ts.margin_reserved.assign(kMarginBins, 0);
    for (const MarginTileCounts& mc : margins) {
      for (uint32_t b = 0; b < kMarginBins; ++b) {
        ts.margin_candidates[b] += mc.candidates[b];
        ts.margin_reserved[b] += mc.reserved[b];
        ts.sv_candidates += mc.candidates[b];
      }
      ts.margin_at_cutoff += mc.at_cutoff;
      ts.margin_taken_at_cutoff += mc.taken_at_cutoff;
    }
  }
}

// DARE's L1 rescale (docs/merge-methods.md): |delta| sums over all and over
// kept positions per tile, added in tile order, then the ratio in W.
void dare_rescale_pass(Ctx& ctx) {
  const Job& job = *ctx.job;
  if (ctx.from_stream) return;  // stream masks carry their ratio (random_trim.h)
  std::vector<uint32_t> sel;
  for (uint32_t i = 0; i < ctx.M; ++i)
    if (ctx.dare[i].active) sel.push_back(i);
  if (sel.empty() || !job.p->rescale) return;
  const uint64_t nt = ctx.n / kTile + (ctx.n % kTile != 0), L = sel.size();
  std::vector<double> all(mul_size(nt, L, "dare sums")), kept(nt * L);
  std::vector<float> scratch(uint64_t(job.pool->size()) * kTile);
  job.pool->parallel_for_worker(ctx.nc, [&](uint64_t c, unsigned w) {
    check_cancel(job.cancel);
    float* dt = scratch.data() + uint64_t(w) * kTile;
    const uint64_t j1 = std::min(ctx.n, (c + 1) * kChunk);
    for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
      const uint64_t m = std::min(kTile, j1 - t0), ti = t0 / kTile;
      for (uint64_t l = 0; l < L; ++l) {
        const DareModel& dm = ctx.dare[sel[l]];
        t_delta_trim(dt, job.models[sel[l]] + t0, job.base + t0, m, ctx.r, 0);
        t_dare_l1(&all[ti * L + l], &kept[ti * L + l], dt, dm.stream, t0, m, dm.thr);
      }
    }
  });
  const DType W = ctx.r == DType::BF16 ? DType::BF16 : DType::F32;  // torch's work dtype for bernoulli on CPU
  for (uint64_t l = 0; l < L; ++l) {
    double before = 0, after = 0;
    for (uint64_t ti = 0; ti < nt; ++ti) {
      before += all[ti * L + l];
      after += kept[ti * L + l];
    }
    const float sb = round_to(W, float(before)), sa = round_to(W, float(after));
    DareModel& dm = ctx.dare[sel[l]];
    if (double(sb) < 1e-7 || double(sa) < 1e-7) continue;  // mergekit: nothing to rescale
    dm.scale = true;
    dm.ratio = round_to(W, sb / sa);
  }
}

}  // namespace

void run_ties(const Job& job, const SlackPlanForTensor* sv_plan) {
  Ctx ctx = make_ctx(job);
  ctx.masks = job.stats != nullptr && ctx.kind == Sparsify::Magnitude && ctx.M >= 2;
  plan_trim(ctx);
  if (ctx.kind == Sparsify::Random) dare_rescale_pass(ctx);
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
