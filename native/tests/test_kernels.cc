// Merge kernels vs the scalar reference (kernel_ref.h), determinism across
// thread counts, dtype conversions, top-k selection, ties_sv planning.
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "dtype.h"
#include "errors.h"
#include "kernel_ref.h"
#include "kernels/kernels.h"
#include "merge_kernels.h"
#include "test_main.h"
#include "thread_pool.h"
#include "topk.h"

using namespace ms;

namespace {

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

size_t first_diff(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t j = 0; j < a.size() && j < b.size(); ++j)
    if (f32_bits(a[j]) != f32_bits(b[j])) return j;
  return a.size() == b.size() ? size_t(-1) : std::min(a.size(), b.size());
}

// Exact equality of all integer stats and thresholds; l1 within `l1_rel`.
bool same_stats(const TensorStats& a, const TensorStats& b, double l1_rel, std::string* why) {
  auto fail = [&](const std::string& s) { *why = s; return false; };
  if (a.numel != b.numel) return fail("numel");
  if (a.sign_conflicts != b.sign_conflicts) return fail("sign_conflicts " + std::to_string(a.sign_conflicts) + " vs " + std::to_string(b.sign_conflicts));
  if (a.n_positions_no_contributor != b.n_positions_no_contributor) return fail("no_contributor");
  if (a.n_majority_negative != b.n_majority_negative) return fail("majority_negative");
  if (a.sv_candidates != b.sv_candidates) return fail("sv_candidates");
  if (a.sv_reserved != b.sv_reserved) return fail("sv_reserved");
  if (a.models.size() != b.models.size()) return fail("models");
  for (size_t i = 0; i < a.models.size(); ++i) {
    const ModelTensorStats &x = a.models[i], &y = b.models[i];
    const std::string m = "model " + std::to_string(i) + ": ";
    if (x.trimmed != y.trimmed || x.k != y.k) return fail(m + "k");
    if (x.threshold_valid != y.threshold_valid) return fail(m + "threshold_valid");
    if (x.threshold_valid && f32_bits(x.threshold) != f32_bits(y.threshold)) return fail(m + "threshold");
    if (x.n_greater_than_threshold != y.n_greater_than_threshold || x.n_equal_to_threshold != y.n_equal_to_threshold ||
        x.n_kept_at_threshold != y.n_kept_at_threshold) return fail(m + "threshold counts");
    if (x.nnz_trimmed != y.nnz_trimmed) return fail(m + "nnz " + std::to_string(x.nnz_trimmed) + " vs " + std::to_string(y.nnz_trimmed));
    if (x.n_contributing != y.n_contributing) return fail(m + "contributing");
    if (x.n_discarded_by_sign_election != y.n_discarded_by_sign_election) return fail(m + "discarded");
    if (x.rescued != y.rescued) return fail(m + "rescued");
    if (x.in_conflict != y.in_conflict || x.conflicts_won != y.conflicts_won) return fail(m + "conflict counts");
    const double l1a = x.l1_discarded_by_sign_election, l1b = y.l1_discarded_by_sign_election;
    if (l1_rel == 0 ? l1a != l1b : std::fabs(l1a - l1b) > l1_rel * std::max(1.0, std::fabs(l1a)))
      return fail(m + "l1 " + std::to_string(l1a) + " vs " + std::to_string(l1b));
  }
  return true;
}

// Random tensor data. kind 0: continuous; 1: quantized (many exact ties and
// zeros); 2: quantized plus a 2^-20 jitter (F32 values near a coarse grid).
ref::Tensor make_tensor(std::mt19937_64& rng, size_t n, size_t M, int kind, DType storage, const std::string& name = "t") {
  ref::Tensor t;
  t.name = name;
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::uniform_int_distribution<int> q(-6, 6);
  auto val = [&](float scale) {
    float v = kind == 0 ? u(rng) * scale : float(q(rng)) * scale * 0.125f;
    return round_to(storage, v);  // inputs are widened from storage
  };
  t.base.resize(n);
  for (auto& v : t.base) v = val(1.f);
  t.models.resize(M);
  for (size_t i = 0; i < M; ++i) {
    t.models[i].resize(n);
    for (size_t j = 0; j < n; ++j) {
      // model = base + small delta; quantized kind keeps deltas on a coarse grid
      float d = kind == 0 ? u(rng) * 0.01f : float(q(rng)) * 0.0078125f;
      if (kind == 2) d += u(rng) * 9.5367431640625e-07f;
      t.models[i][j] = round_to(storage, t.base[j] + d);
    }
  }
  return t;
}

void run_kernel(std::vector<float>* out, TensorStats* st, const ref::Tensor& t, const std::vector<ModelParams>& mp,
                const MergeParams& p, unsigned threads, const SlackPlanForTensor* sv = nullptr) {
  ThreadPool pool(threads);
  std::vector<const float*> ptr;
  for (auto& m : t.models) ptr.push_back(m.data());
  out->assign(t.base.size(), -12345.f);
  merge_tensor(out->data(), st, t.base.data(), ptr.data(), uint32_t(ptr.size()), t.base.size(), mp.data(), p, pool,
               nullptr, sv);
}

const char* dt_name(DType d) { return dtype_name(d); }

}  // namespace

// ---------------------------------------------------------------- dtype
TEST(dtype_widen_narrow_roundtrip_all_16bit) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float fb = bf16_to_f32(uint16_t(h)), fh = f16_to_f32(uint16_t(h));
    if (std::isnan(fb)) { CHECK(std::isnan(bf16_to_f32(f32_to_bf16(fb)))); }
    else CHECK_EQ(f32_to_bf16(fb), uint16_t(h));
    if (std::isnan(fh)) { CHECK(std::isnan(f16_to_f32(f32_to_f16(fh)))); CHECK_EQ(f32_to_f16(fh), uint16_t(h | 0x200)); }
    else CHECK_EQ(f32_to_f16(fh), uint16_t(h));
    if (!std::isnan(fh)) { CHECK_EQ(f32_bits(round_f16(fh)), f32_bits(fh)); }
    if (!std::isnan(fb)) { CHECK_EQ(f32_bits(round_bf16(fb)), f32_bits(fb)); }
  }
  // known values
  CHECK_EQ(f16_to_f32(0x3c00), 1.0f);
  CHECK_EQ(f16_to_f32(0x0001), 5.9604644775390625e-8f);  // smallest subnormal
  CHECK_EQ(f16_to_f32(0x7bff), 65504.f);
  CHECK_EQ(f32_to_f16(65519.f), uint16_t(0x7bff));
  CHECK_EQ(f32_to_f16(65520.f), uint16_t(0x7c00));       // ties to even -> inf
  CHECK_EQ(f32_to_f16(2.98023223876953125e-8f), uint16_t(0x0000));  // 2^-25: half of smallest subnormal -> even (0)
  CHECK_EQ(f32_to_f16(2.98023259404089e-8f), uint16_t(0x0001));      // just above half
  CHECK_EQ(f32_to_f16(-0.0f), uint16_t(0x8000));
  CHECK_EQ(f32_to_bf16(1.00390625f), uint16_t(0x3f80));  // 1 + 2^-8: tie -> even
  CHECK_EQ(f32_to_bf16(1.01171875f), uint16_t(0x3f82));  // 1 + 3*2^-8: tie -> even (up)
  CHECK_EQ(f32_to_bf16(f32_from_bits(0x7f7fffff)), uint16_t(0x7f80));  // rounds to inf
  CHECK_EQ(f32_to_bf16(f32_from_bits(0x00000001)), uint16_t(0x0000));  // tiny subnormal -> 0
  CHECK_EQ(f32_to_bf16(f32_from_bits(0x00008000)), uint16_t(0x0000));  // tie -> even 0
  CHECK_EQ(f32_to_bf16(f32_from_bits(0x00018000)), uint16_t(0x0002));  // tie -> even up
  CHECK_EQ(f32_to_bf16(f32_from_bits(0x7f800001)) & 0x7fc0, 0x7fc0);   // signalling NaN stays NaN (quiet)
}

// Independent BF16 reference: nearest of the two truncation neighbours in double.
static uint16_t bf16_ref(float x) {
  const uint32_t u = f32_bits(x);
  if (std::isnan(x)) return uint16_t((u >> 16) | 0x40);
  const uint32_t lo = u & 0xffff0000u, hi = lo + 0x10000u;
  const double dx = x, dl = f32_from_bits(lo);
  // hi may be inf (0x7f800000): treat as 2^128 for the distance
  const double dh = (hi & 0x7fffffffu) == 0x7f800000u ? std::copysign(std::ldexp(1.0, 128), dx) : double(f32_from_bits(hi));
  const double el = std::fabs(dx - dl), eh = std::fabs(dh - dx);
  if (el < eh) return uint16_t(lo >> 16);
  if (eh < el) return uint16_t(hi >> 16);
  return ((lo >> 16) & 1) ? uint16_t(hi >> 16) : uint16_t(lo >> 16);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
__attribute__((target("f16c"))) static uint16_t f16_hw(float x) {
  return uint16_t(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(x), _MM_FROUND_TO_NEAREST_INT), 0));
}
static bool have_f16c() { return __builtin_cpu_supports("f16c"); }
#else
static uint16_t f16_hw(float) { return 0; }
static bool have_f16c() { return false; }
#endif

TEST(dtype_narrow_matches_independent_references) {
  const bool hw = have_f16c();
  uint64_t checked = 0;
  auto check = [&](uint32_t u) {
    const float x = f32_from_bits(u);
    const uint16_t b = f32_to_bf16(x);
    if (b != bf16_ref(x)) { CHECK_EQ(b, bf16_ref(x)); }
    if (!std::isnan(x)) {
      if (f32_bits(round_bf16(x)) != f32_bits(bf16_to_f32(b))) CHECK_EQ(f32_bits(round_bf16(x)), f32_bits(bf16_to_f32(b)));
    } else CHECK(std::isnan(round_bf16(x)));
    const uint16_t h = f32_to_f16(x);
    if (hw && !std::isnan(x) && h != f16_hw(x)) CHECK_EQ(h, f16_hw(x));
    if (f32_bits(round_f16(x)) != f32_bits(f16_to_f32(h))) CHECK_EQ(f32_bits(round_f16(x)), f32_bits(f16_to_f32(h)));
    ++checked;
  };
  // every 2^32 / 2^21 -th pattern with a varying low part, plus a dense sweep around F16 boundaries
  std::mt19937 rng(7);
  for (uint64_t hi = 0; hi < (uint64_t(1) << 21); ++hi) check(uint32_t(hi << 11) | (rng() & 0x7ff));
  for (uint32_t base : {0x38800000u, 0x33800000u, 0x477fe000u, 0x00000000u, 0x3f800000u})
    for (uint32_t d = 0; d < 0x40000; ++d) { check(base + d); check((base + d) | 0x80000000u); }
  CHECK(checked > 2000000);
}

TEST(dtype_buffers_match_scalar) {
  std::mt19937 rng(3);
  const size_t n = 10007;
  std::vector<uint16_t> h(n), h2(n);
  std::vector<float> f(n), g(n);
  for (auto& v : h) v = uint16_t(rng());
  widen_bf16(f.data(), h.data(), n);
  for (size_t i = 0; i < n; ++i) CHECK_EQ(f32_bits(f[i]), f32_bits(bf16_to_f32(h[i])));
  widen_f16(f.data(), h.data(), n);
  for (size_t i = 0; i < n; ++i) CHECK_EQ(f32_bits(f[i]), f32_bits(f16_to_f32(h[i])));
  for (auto& v : f) v = f32_from_bits(uint32_t(rng()));
  narrow_bf16(h2.data(), f.data(), n);
  for (size_t i = 0; i < n; ++i) CHECK_EQ(h2[i], f32_to_bf16(f[i]));
  narrow_f16(h2.data(), f.data(), n);
  for (size_t i = 0; i < n; ++i) CHECK_EQ(h2[i], f32_to_f16(f[i]));
  g = f;
  round_buffer(g.data(), n, DType::F16);
  for (size_t i = 0; i < n; ++i) CHECK_EQ(f32_bits(g[i]), f32_bits(round_f16(f[i])));
  g = f;
  round_buffer(g.data(), n, DType::BF16);
  for (size_t i = 0; i < n; ++i) CHECK_EQ(f32_bits(g[i]), f32_bits(round_bf16(f[i])));
  // generic entry points
  std::vector<float> back(n);
  narrow(h2.data(), f.data(), DType::F16, n);
  widen(back.data(), h2.data(), DType::F16, n);
  for (size_t i = 0; i < n; ++i) CHECK_EQ(f32_bits(back[i]), f32_bits(f16_to_f32(f32_to_f16(f[i]))));
  CHECK_EQ(f32_bits(round_to(DType::F32, 0.1f)), f32_bits(0.1f));
}

// ---------------------------------------------------------------- thread pool
TEST(thread_pool_runs_each_task_once_and_rethrows) {
  for (unsigned th : {1u, 2u, 3u, 8u}) {
    ThreadPool pool(th);
    CHECK_EQ(pool.size(), th);
    std::vector<std::atomic<int>> hits(1000);
    pool.parallel_for(1000, [&](uint64_t t) { hits[t]++; });
    for (auto& h : hits) CHECK_EQ(h.load(), 1);
    std::atomic<int> workers_ok{1};
    pool.parallel_for_worker(500, [&](uint64_t, unsigned w) { if (w >= th) workers_ok = 0; });
    CHECK_EQ(workers_ok.load(), 1);
    CHECK_THROWS_CODE(pool.parallel_for(100, [&](uint64_t t) {
      if (t == 37 || t == 80) throw MergeError(ErrorCode::CANCELLED, "x");
    }), CANCELLED);
    // usable after an exception; nested calls run inline
    std::atomic<int> total{0};
    pool.parallel_for(4, [&](uint64_t) { pool.parallel_for(5, [&](uint64_t) { total++; }); });
    CHECK_EQ(total.load(), 20);
    pool.parallel_for(0, [&](uint64_t) { total++; });
    CHECK_EQ(total.load(), 20);
  }
}

// ---------------------------------------------------------------- top-k
TEST(topk_select_matches_sort_reference) {
  std::mt19937_64 rng(11);
  ThreadPool pool(3);
  for (size_t n : {size_t(0), size_t(1), size_t(2), size_t(100), size_t(70000), size_t(140001)}) {
    for (int kind = 0; kind < 3; ++kind) {
      std::vector<uint32_t> keys(n);
      for (auto& k : keys) {
        if (kind == 0) k = uint32_t(rng()) & 0x7fffffffu;
        else if (kind == 1) k = uint32_t(rng() % 5) * 0x1234567u;       // heavy ties
        else k = 0x3f800000u + uint32_t(rng() % 40000);                 // one level-1 region
      }
      for (uint64_t k : {uint64_t(0), uint64_t(1), uint64_t(n / 3), uint64_t(n ? n - 1 : 0), uint64_t(n), uint64_t(n + 5)}) {
        for (bool largest : {true, false}) {
          TopkSelect s = topk_select(keys.data(), n, k, largest, pool);
          std::vector<size_t> order(n);
          for (size_t j = 0; j < n; ++j) order[j] = j;
          std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            if (keys[a] != keys[b]) return largest ? keys[a] > keys[b] : keys[a] < keys[b];
            return a < b;
          });
          const uint64_t kk = std::min<uint64_t>(k, n);
          CHECK_EQ(s.k, kk);
          std::vector<uint8_t> want(n, 0), got(n, 0);
          for (uint64_t q = 0; q < kk; ++q) want[order[q]] = 1;
          topk_mask(got.data(), keys.data(), n, s, largest);
          CHECK(want == got);
          if (kk > 0) {
            CHECK_EQ(s.threshold, keys[order[kk - 1]]);
            uint64_t eq = 0;
            for (auto key : keys) eq += key == s.threshold;
            CHECK_EQ(s.n_equal, eq);
          }
        }
      }
    }
  }
  uint64_t keep[4];
  const uint64_t eqc[4] = {2, 0, 3, 1};
  distribute_ties(keep, eqc, 4, 4);
  CHECK(keep[0] == 2 && keep[1] == 0 && keep[2] == 2 && keep[3] == 0);
  CHECK_THROWS_CODE(distribute_ties(keep, eqc, 4, 7), INTERNAL);
}

TEST(topk_nan_ranks_above_inf) {
  ThreadPool pool(2);
  std::vector<float> v = {1.f, std::nanf(""), INFINITY, -5.f, -INFINITY, 0.f};
  std::vector<uint32_t> keys;
  for (float x : v) keys.push_back(mag_key(x));
  TopkSelect s = topk_select(keys.data(), keys.size(), 1, true, pool);
  CHECK_EQ(s.threshold, mag_key(std::nanf("")));
  s = topk_select(keys.data(), keys.size(), 3, true, pool);  // NaN, then the two infinities
  CHECK_EQ(s.threshold, 0x7f800000u);
  CHECK_EQ(s.n_equal, uint64_t(2));
}

// ---------------------------------------------------------------- kernels vs reference
namespace {

struct Combo {
  Method method;
  Consensus cons;
  bool normalize;
  double lambda;
  std::vector<ModelParams> mp;
};

std::vector<Combo> combos() {
  std::vector<Combo> c;
  c.push_back({Method::Linear, Consensus::Sum, true, 1, {{2, 1, false}, {1, 1, false}, {1, 1, false}}});
  c.push_back({Method::Linear, Consensus::Sum, false, 1, {{0.6, 1, false}, {-0.3, 1, false}}});
  c.push_back({Method::Linear, Consensus::Sum, true, 1, {{0.7, 1, false}}});
  c.push_back({Method::TaskArithmetic, Consensus::Sum, false, 0.75, {{1, 1, false}, {0.3, 1, false}}});
  c.push_back({Method::TaskArithmetic, Consensus::Sum, true, 1, {{0.5, 1, false}, {-0.5, 1, false}}});  // divisor 0 -> 1
  c.push_back({Method::Ties, Consensus::Sum, true, 1, {{1, 0.2, false}, {1, 1, false}}});
  c.push_back({Method::Ties, Consensus::Sum, false, 1, {{1, 0.2, false}, {-0.5, 1, false}}});
  c.push_back({Method::Ties, Consensus::Count, true, 0.9, {{0.6, 0.2, false}, {0.4, 0.2, false}}});
  c.push_back({Method::Ties, Consensus::Count, false, 1, {{0.5, 0.2, false}, {1, 1, false}, {0.7, 0.5, false}}});
  c.push_back({Method::Ties, Consensus::Sum, true, 1, {{0.5, 0.2, false}, {1, 1.5, false}, {0.7, 0.5, false}}});
  c.push_back({Method::Ties, Consensus::Sum, true, 1, {{1, 0, false}, {1, 0.0001, false}}});    // k == 0
  c.push_back({Method::Ties, Consensus::Sum, true, 1, {{1, 0.999, false}}});                    // one model
  c.push_back({Method::Ties, Consensus::Sum, false, 1, {{1, 0.3, false}, {0, 0.3, false}}});    // zero weight
  return c;
}

}  // namespace

// Top-k threshold search modes (sampled window / histograms / sampled with
// forced fallbacks) must all give the reference's bits.
struct TopkModeGuard {
  int mode;
  uint64_t min_n;
  TopkModeGuard(int m, uint64_t n) : mode(kern::g_topk_mode), min_n(kern::g_topk_sample_min_n) {
    kern::g_topk_mode = m;
    kern::g_topk_sample_min_n = n;
  }
  ~TopkModeGuard() { kern::g_topk_mode = mode; kern::g_topk_sample_min_n = min_n; }
};

static void kernels_vs_reference(int topk_mode) {
  TopkModeGuard guard(topk_mode, 0);  // sampling path for every tensor >= 4 * sample size
  std::mt19937_64 rng(1234);
  int cases = 0;
  for (const Combo& cb : combos()) {
    for (DType dt : {DType::F32, DType::BF16, DType::F16}) {
      for (size_t n : {size_t(0), size_t(1), size_t(5), size_t(3072), size_t(65536 + 1500), size_t(200000)}) {
        if (n == 200000 && !(cb.method == Method::Ties)) continue;
        // below the sampling size every mode runs the histogram path (same as mode 0)
        if (topk_mode != 0 && (n < 4 * kern::kTopkSample || cb.method != Method::Ties)) continue;
        for (int kind = 0; kind < 2; ++kind)
        for (TieOrder rule : {TieOrder::Mergekit, TieOrder::Index}) {
          ref::Tensor t = make_tensor(rng, n, cb.mp.size(), kind, dt);
          MergeParams p;
          p.tie_order = rule;
          p.method = cb.method;
          p.consensus = cb.cons;
          p.normalize = cb.normalize;
          p.lambda = cb.lambda;
          p.compute = dt;
          std::vector<float> want;
          TensorStats wst;
          ref::merge(&want, &wst, t, cb.mp, p);
          std::vector<float> first;
          TensorStats fst;
          for (unsigned th : {1u, 2u, 3u, 8u}) {
            if (n < 10000 && th > 2) continue;
            std::vector<float> got;
            TensorStats st;
            run_kernel(&got, &st, t, cb.mp, p, th);
            std::string why;
            const bool ok_out = same_bits(got, want);
            const bool ok_st = same_stats(st, wst, 1e-9, &why);
            if (!ok_out || !ok_st) {
              const size_t j = first_diff(got, want);
              std::fprintf(stderr, "  %s %s cons=%d n=%zu kind=%d rule=%d th=%u: out %s (first diff %zu: %a vs %a) stats %s %s\n",
                           method_name(cb.method), dt_name(dt), int(cb.cons), n, kind, int(rule), th, ok_out ? "ok" : "DIFF", j,
                           j < got.size() ? got[j] : 0.f, j < want.size() ? want[j] : 0.f, ok_st ? "ok" : "DIFF", why.c_str());
            }
            CHECK(ok_out);
            CHECK(ok_st);
            if (first.empty() && fst.models.empty()) { first = got; fst = st; }
            else {
              CHECK(same_bits(got, first));
              CHECK(same_stats(st, fst, 0.0, &why));  // bit-identical, l1 included
            }
            ++cases;
          }
        }
      }
    }
  }
  CHECK(cases > (topk_mode == 0 ? 600 : 80));
}

TEST(kernels_match_reference_topk_auto) { kernels_vs_reference(0); }
TEST(kernels_match_reference_topk_histogram) { kernels_vs_reference(1); }
TEST(kernels_match_reference_topk_forced_fallback) { kernels_vs_reference(2); }

TEST(topk_sampled_window_paths) {
  // The sampled-window search must give the reference's bits on every path:
  //  a) heavy ties: |delta| = 2 (35%), uniform (2,3) (30%), 3 (35%) (x 2^-7);
  //     d = 0.36 puts the k-th key just below the 3s, d = 0.2 inside them,
  //     d = 0.66 at the 2s: edge groups are counted, not collected.
  //  b) adversarial: the sampled positions hold only two values A < B and
  //     every other element lies strictly between -> the window [A, B]
  //     collects > n/8 keys -> too large -> histogram fallback.
  std::mt19937_64 rng(8);
  const size_t n = 300000;
  std::uniform_real_distribution<float> u(0.f, 1.f);
  auto sgn = [&] { return u(rng) < 0.5f ? -1.f : 1.f; };
  ref::Tensor heavy, adv;
  heavy.base.assign(n, 0.f);
  adv.base.assign(n, 0.f);
  heavy.models.resize(1);
  adv.models.resize(1);
  for (size_t j = 0; j < n; ++j) {
    const float r = u(rng);
    const float mag = r < 0.35f ? 3.f : (r < 0.65f ? 2.f + u(rng) : 2.f);
    heavy.models[0].push_back(sgn() * mag * 0.0078125f);
    adv.models[0].push_back(sgn() * (1.f + 0.001f + 0.998f * u(rng)));
  }
  for (uint64_t s = 0; s < kern::kTopkSample; ++s)
    adv.models[0][kern::topk_sample_position(s, n)] = s % 2 ? 2.f : 1.f;
  TopkModeGuard guard(0, 0);
  MergeParams p;
  p.normalize = false;
  struct C { const ref::Tensor* t; double d; uint64_t fallbacks; };
  for (const C& c : {C{&heavy, 0.36, 0}, C{&heavy, 0.2, 0}, C{&heavy, 0.66, 0}, C{&adv, 0.5, 1}}) {
    std::vector<ModelParams> mp = {{1, c.d, false}};
    std::vector<float> want, got;
    TensorStats a, b;
    ref::merge(&want, &a, *c.t, mp, p);
    const uint64_t before = kern::g_topk_fallbacks.load();
    run_kernel(&got, &b, *c.t, mp, p, 2);
    CHECK_EQ(kern::g_topk_fallbacks.load() - before, c.fallbacks);
    std::string why;
    CHECK(same_bits(got, want));
    CHECK(same_stats(b, a, 1e-9, &why));
  }
}

TEST(analyze_matches_merge_stats_and_out_may_alias_base) {
  std::mt19937_64 rng(99);
  ref::Tensor t = make_tensor(rng, 70000, 3, 1, DType::BF16);
  std::vector<ModelParams> mp = {{0.5, 0.2, false}, {1, 1, false}, {0.7, 0.5, false}};
  MergeParams p;
  p.compute = DType::BF16;
  std::vector<float> out;
  TensorStats st, st2;
  run_kernel(&out, &st, t, mp, p, 2);
  ThreadPool pool(2);
  std::vector<const float*> ptr;
  for (auto& m : t.models) ptr.push_back(m.data());
  analyze_tensor(&st2, t.base.data(), ptr.data(), 3, t.base.size(), mp.data(), p, pool);
  std::string why;
  CHECK(same_stats(st, st2, 0.0, &why));
  std::vector<float> b = t.base;  // in place: out == base
  merge_tensor(b.data(), nullptr, b.data(), ptr.data(), 3, b.size(), mp.data(), p, pool);
  CHECK(same_bits(b, out));
}

// ---------------------------------------------------------------- hand-checked tiny cases
TEST(ties_hand_checked) {
  // base 0; A = [1,-2,3,-1,0.5,2], B = [-2,1,-1,2,-1,-4], weights 1, density 1.
  // sums s = [-1,-1,2,1,-0.5,-2] -> majority [-,-,+,+,-,-]
  // contributors: 0:B(-2) 1:A(-2) 2:A(3) 3:B(2) 4:B(-1) 5:B(-4)
  ref::Tensor t{"t", {0, 0, 0, 0, 0, 0}, {{1, -2, 3, -1, 0.5f, 2}, {-2, 1, -1, 2, -1, -4}}};
  std::vector<ModelParams> mp = {{1, 1, true}, {1, 1, false}};
  MergeParams p;
  p.method = Method::Ties;
  p.normalize = false;
  std::vector<float> out;
  TensorStats st;
  run_kernel(&out, &st, t, mp, p, 2);
  CHECK((out == std::vector<float>{-2, -2, 3, 2, -1, -4}));
  CHECK_EQ(st.sign_conflicts, uint64_t(6));       // every position has both signs
  CHECK_EQ(st.n_majority_negative, uint64_t(4));
  CHECK_EQ(st.models[0].n_contributing, uint64_t(2));
  CHECK_EQ(st.models[0].n_discarded_by_sign_election, uint64_t(4));
  CHECK_EQ(st.models[0].l1_discarded_by_sign_election, 1 + 1 + 0.5 + 2);
  CHECK_EQ(st.models[1].conflicts_won, uint64_t(4));
  // count election, density 0.5 for A: k = 3 -> keeps 3 (idx 2), -2 (idx 1), 2 (idx 5)
  // A trimmed [0,-2,3,0,0,2]; votes A-B: 0:(-) 1:(-,+)=0->+ 2:(+,-)=0->+ 3:(+) 4:(-) 5:(+,-)=0->+
  mp[0].density = 0.5;
  p.consensus = Consensus::Count;
  run_kernel(&out, &st, t, mp, p, 1);
  CHECK((out == std::vector<float>{-2, 1, 3, 2, -1, 2}));
  CHECK_EQ(st.models[0].k, uint64_t(3));
  CHECK_EQ(st.models[0].threshold, 2.f);
  CHECK_EQ(st.models[0].n_equal_to_threshold, uint64_t(2));  // |-2| and |2|: both kept
}

TEST(ties_threshold_ties_keep_lowest_index) {
  // |delta| = [1,2,2,2,1,2], density 0.5 -> k = 3: 2 at idx 1,2,3 kept; idx 5 dropped.
  // (Up to 16 elements std::sort is an insertion sort, which is stable: mergekit's rule agrees.)
  ref::Tensor t{"t", {0, 0, 0, 0, 0, 0}, {{1, -2, 2, -2, 1, 2}}};
  std::vector<ModelParams> mp = {{1, 0.5, false}};
  for (TieOrder rule : {TieOrder::Index, TieOrder::Mergekit}) {
    MergeParams p;
    p.normalize = false;
    p.tie_order = rule;
    std::vector<float> out;
    TensorStats st;
    run_kernel(&out, &st, t, mp, p, 3);
    CHECK((out == std::vector<float>{0, -2, 2, -2, 0, 0}));
    CHECK_EQ(st.models[0].n_greater_than_threshold, uint64_t(0));
    CHECK_EQ(st.models[0].n_equal_to_threshold, uint64_t(4));
    CHECK_EQ(st.models[0].n_kept_at_threshold, uint64_t(3));
  }
}

TEST(ties_threshold_ties_mergekit_order_hand_checked) {
  // 17 entries, |delta| = 1 at idx 0..15 and 3 at idx 16; k = 8. std::sort (descending):
  // depth 8; median of (idx 1, idx 8, idx 16) = an equal 1 ... worked through by the port in
  // sort_ref.h: the kept ties are not the 7 lowest indices.
  ref::Tensor t{"t", std::vector<float>(17, 0.f), {std::vector<float>(17, 1.f)}};
  t.models[0][16] = 3.f;
  std::vector<ModelParams> mp = {{1, 8.0 / 17.0 + 1e-9, false}};
  MergeParams p;
  p.normalize = false;
  std::vector<uint32_t> keys(17);
  for (size_t j = 0; j < 17; ++j) keys[j] = mag_key(t.models[0][j]);
  const auto sorted = sortref::full_sort(keys, false, true);
  std::vector<float> want(17, 0.f);
  for (size_t q = 0; q < 8; ++q) want[sorted[q].idx] = t.models[0][sorted[q].idx];
  std::vector<float> out;
  TensorStats st;
  run_kernel(&out, &st, t, mp, p, 2);
  CHECK(out == want);
  CHECK_EQ(st.models[0].n_kept_at_threshold, uint64_t(7));
  std::vector<float> lowest(17, 0.f);
  for (size_t j = 0; j < 7; ++j) lowest[j] = 1.f;
  lowest[16] = 3.f;
  CHECK(want != lowest);  // the case is informative: mergekit's rule is not the index rule here
}

TEST(ties_sv_tensor_scope_hand_checked) {
  // Same tensor as ties_hand_checked, A favored. A's sign loses at
  // 0 (margin |s|=1), 3 (1), 4 (0.5), 5 (2): 4 candidates, nnz(A) = 6.
  ref::Tensor t{"t", {0, 0, 0, 0, 0, 0}, {{1, -2, 3, -1, 0.5f, 2}, {-2, 1, -1, 2, -1, -4}}};
  std::vector<ModelParams> mp = {{1, 1, true}, {1, 1, false}};
  MergeParams p;
  p.method = Method::TiesSV;
  p.slack_scope = SlackScope::Tensor;
  p.normalize = true;
  for (DType dt : {DType::F32, DType::BF16, DType::F16}) {
    p.compute = dt;
    std::vector<float> out;
    TensorStats st;
    p.slack = 0;  // == TIES
    run_kernel(&out, &st, t, mp, p, 2);
    CHECK((out == std::vector<float>{-2, -2, 3, 2, -1, -4}));
    CHECK_EQ(st.sv_candidates, uint64_t(4));
    CHECK_EQ(st.sv_reserved, uint64_t(0));
    // slack 0.5: R = min(4, floor(3)) = 3 -> margins 0.5 (idx 4), 1 (idx 0), 1 (idx 3)
    p.slack = 0.5;
    run_kernel(&out, &st, t, mp, p, 2);
    CHECK((out == std::vector<float>{1, -2, 3, -1, 0.5f, -4}));
    CHECK_EQ(st.models[0].rescued, uint64_t(3));
    // slack 0.34: R = floor(2.04) = 2 -> idx 4 and idx 0 (margin tie 0 vs 3: lowest index)
    p.slack = 0.34;
    run_kernel(&out, &st, t, mp, p, 1);
    CHECK((out == std::vector<float>{1, -2, 3, 2, 0.5f, -4}));
    CHECK_EQ(st.sv_reserved, uint64_t(2));
    // slack 5: R = min(4, 30) = 4 -> every candidate
    p.slack = 5;
    run_kernel(&out, &st, t, mp, p, 1);
    CHECK((out == std::vector<float>{1, -2, 3, -1, 0.5f, 2}));
  }
}

namespace {
// Two-pass model-scope API over tensors given in `order` (any order).
void run_model_sv(std::map<std::string, std::vector<float>>* outs, std::map<std::string, TensorStats>* sts,
                  const std::vector<ref::Tensor>& ts, const std::vector<ModelParams>& mp, const MergeParams& p0,
                  unsigned threads, bool* refined = nullptr, const std::map<std::string, DType>* compute_of = nullptr) {
  ThreadPool pool(threads);
  auto params = [&](const std::string& name) {
    MergeParams q = p0;
    if (compute_of) q.compute = compute_of->at(name);
    return q;
  };
  const MergeParams& p = p0;
  auto ptrs = [](const ref::Tensor& t) {
    std::vector<const float*> v;
    for (auto& m : t.models) v.push_back(m.data());
    return v;
  };
  SlackPlanner planner(p);
  for (const auto& t : ts) {
    auto pp = ptrs(t);
    planner.add(t.name, slack_summarize(t.base.data(), pp.data(), uint32_t(pp.size()), t.base.size(), mp.data(),
                                        params(t.name), pool));
  }
  bool r = false;
  while (!planner.finish()) {
    r = true;
    for (const std::string& name : planner.tensors_to_refine()) {
      for (const auto& t : ts) {
        if (t.name != name) continue;
        auto pp = ptrs(t);
        planner.add_refinement(name, slack_summarize(t.base.data(), pp.data(), uint32_t(pp.size()), t.base.size(),
                                                     mp.data(), params(t.name), pool, nullptr, &planner.refine_request()));
      }
    }
  }
  if (refined) *refined = r;
  for (size_t q = ts.size(); q-- > 0;) {  // pass 2 in reverse order: order must not matter
    const ref::Tensor& t = ts[q];
    SlackPlanForTensor plan = planner.plan_for(t.name);
    run_kernel(&(*outs)[t.name], &(*sts)[t.name], t, mp, params(t.name), threads, &plan);
  }
}
}  // namespace

TEST(ties_sv_model_scope_hand_checked) {
  // "b.weight" is given first; ranking uses byte-wise name order (a < b).
  // a: A=[1,-1], B=[-2,2]: s=[-1,1], A loses both, margins 1, 1
  // b: A=[1,3], B=[-1.5,-4]: s=[-0.5,-1], A loses both, margins 0.5, 1
  // nnz(A) = 4. slack 0.75 -> R = 3: b[0] (0.5), then margin-1 ties a[0], a[1] (name a < b), not b[1].
  std::vector<ref::Tensor> ts = {{"b.weight", {0, 0}, {{1, 3}, {-1.5f, -4}}}, {"a.weight", {0, 0}, {{1, -1}, {-2, 2}}}};
  std::vector<ModelParams> mp = {{1, 1, true}, {1, 1, false}};
  MergeParams p;
  p.method = Method::TiesSV;
  p.normalize = false;
  for (DType dt : {DType::F32, DType::BF16, DType::F16}) {
    p.compute = dt;
    std::map<std::string, std::vector<float>> outs;
    std::map<std::string, TensorStats> sts;
    p.slack = 0.75;
    bool refined = false;
    run_model_sv(&outs, &sts, ts, mp, p, 2, &refined);
    CHECK((outs["a.weight"] == std::vector<float>{1, -1}));
    CHECK((outs["b.weight"] == std::vector<float>{1, -4}));
    CHECK_EQ(sts["a.weight"].sv_reserved, uint64_t(2));
    CHECK_EQ(sts["b.weight"].sv_reserved, uint64_t(1));
    CHECK_EQ(refined, dt == DType::F32);  // F32: margin bin of 1.0 split 2-of-3 -> one refinement round
    // slack 0.5 -> R = 2: b[0], a[0]
    p.slack = 0.5;
    run_model_sv(&outs, &sts, ts, mp, p, 1);
    CHECK((outs["a.weight"] == std::vector<float>{1, 2}));
    CHECK((outs["b.weight"] == std::vector<float>{1, -4}));
    // tensor scope, slack 0.75: R = floor(1.5) = 1 per tensor -> a[0]; b[0]
    p.slack = 0.75;
    p.slack_scope = SlackScope::Tensor;
    for (const auto& t : ts) {
      std::vector<float> out;
      TensorStats st;
      run_kernel(&out, &st, t, mp, p, 1);
      CHECK((out == (t.name == "a.weight" ? std::vector<float>{1, 2} : std::vector<float>{1, -4})));
    }
    p.slack_scope = SlackScope::Model;
  }
}

TEST(ties_sv_matches_brute_force_and_ties_at_slack_0) {
  std::mt19937_64 rng(777);
  for (DType dt : {DType::F32, DType::BF16, DType::F16}) {
    for (int kind = 0; kind < 2; ++kind) {
      std::vector<ref::Tensor> ts;
      const char* names[] = {"model.layers.1.w", "model.layers.0.w", "lm_head", "model.layers.10.w"};
      const size_t sizes[] = {70001, 3072, 1, 2500};
      for (int q = 0; q < 4; ++q) ts.push_back(make_tensor(rng, sizes[q], 3, kind, dt, names[q]));
      std::vector<ModelParams> mp = {{0.5, 0.2, false}, {1, 0.5, true}, {0.7, 1, false}};
      MergeParams p;
      p.method = Method::TiesSV;
      p.compute = dt;
      for (double slack : {0.0, 0.01, 0.1, 0.3, 2.0}) {
        p.slack = slack;
        std::map<std::string, std::vector<float>> want, got1, got3;
        std::map<std::string, TensorStats> wst, st1, st3;
        ref::merge_model_sv(&want, &wst, ts, mp, p);
        run_model_sv(&got1, &st1, ts, mp, p, 1);
        run_model_sv(&got3, &st3, ts, mp, p, 3);
        for (const auto& t : ts) {
          std::string why;
          const bool ok = same_bits(got1[t.name], want[t.name]) && same_stats(st1[t.name], wst[t.name], 1e-9, &why);
          if (!ok) std::fprintf(stderr, "  model-scope %s kind=%d slack=%g %s: %s\n", dt_name(dt), kind, slack, t.name.c_str(), why.c_str());
          CHECK(ok);
          CHECK(same_bits(got3[t.name], got1[t.name]));
          CHECK(same_stats(st3[t.name], st1[t.name], 0.0, &why));
        }
        // tensor scope vs reference
        p.slack_scope = SlackScope::Tensor;
        for (const auto& t : ts) {
          std::vector<float> w, g;
          TensorStats a, b;
          ref::merge(&w, &a, t, mp, p);
          run_kernel(&g, &b, t, mp, p, 2);
          std::string why;
          const bool ok = same_bits(g, w) && same_stats(b, a, 1e-9, &why);
          if (!ok) std::fprintf(stderr, "  tensor-scope %s kind=%d slack=%g %s: %s\n", dt_name(dt), kind, slack, t.name.c_str(), why.c_str());
          CHECK(ok);
        }
        p.slack_scope = SlackScope::Model;
        if (slack == 0.0) {  // exactly TIES
          MergeParams pt = p;
          pt.method = Method::Ties;
          for (const auto& t : ts) {
            std::vector<float> g;
            TensorStats b;
            run_kernel(&g, &b, t, mp, pt, 2);
            CHECK(same_bits(g, got1[t.name]));
            CHECK_EQ(st1[t.name].sv_reserved, uint64_t(0));
          }
        }
      }
    }
  }
}

TEST(ties_sv_model_scope_mixed_compute_dtypes) {
  // Tensors of one model may use different compute dtypes (native mode keeps
  // each tensor's storage dtype); the global ranking must still be exact.
  std::mt19937_64 rng(4242);
  std::vector<ref::Tensor> ts;
  std::map<std::string, DType> compute_of = {{"a", DType::BF16}, {"b", DType::F16}, {"c", DType::F32}, {"d", DType::F32}};
  for (auto& [name, dt] : compute_of) ts.push_back(make_tensor(rng, name == "c" ? 70000 : 5000, 2, 2, dt, name));
  std::vector<ModelParams> mp = {{1, 0.3, true}, {1.5, 1, false}};
  MergeParams p;
  p.method = Method::TiesSV;
  int refined_rounds = 0;
  for (double slack : {0.003, 0.02, 0.05, 0.1, 0.25}) {
    p.slack = slack;
    std::map<std::string, std::vector<float>> want, got;
    std::map<std::string, TensorStats> wst, st;
    ref::merge_model_sv(&want, &wst, ts, mp, p, &compute_of);
    bool refined = false;
    run_model_sv(&got, &st, ts, mp, p, 2, &refined, &compute_of);
    refined_rounds += refined;
    for (const auto& t : ts) {
      std::string why;
      const bool ok = same_bits(got[t.name], want[t.name]) && same_stats(st[t.name], wst[t.name], 1e-9, &why);
      if (!ok) std::fprintf(stderr, "  mixed slack=%g %s: %s\n", slack, t.name.c_str(), why.c_str());
      CHECK(ok);
    }
  }
  CHECK(refined_rounds >= 1);  // the F32 tensors' refinement path, next to exact F16/BF16 tensors
}

// ---------------------------------------------------------------- validation, cancel, NaN
TEST(validation_errors) {
  std::vector<ModelParams> mp = {{1, 0.5, false}, {1, 1, false}};
  MergeParams p;
  CHECK_THROWS_CODE(validate_params(mp.data(), 0, p), RECIPE_INVALID);
  mp[0].density = -0.1;
  CHECK_THROWS_CODE(validate_params(mp.data(), 2, p), RECIPE_INVALID);
  mp[0].density = NAN;
  CHECK_THROWS_CODE(validate_params(mp.data(), 2, p), RECIPE_INVALID);
  mp[0].density = 1.5;  // keep all
  validate_params(mp.data(), 2, p);
  mp[0].weight = INFINITY;
  CHECK_THROWS_CODE(validate_params(mp.data(), 2, p), RECIPE_INVALID);
  mp[0].weight = 1e5;  // overflows F16
  p.compute = DType::F16;
  CHECK_THROWS_CODE(validate_params(mp.data(), 2, p), RECIPE_INVALID);
  p.compute = DType::F32;
  validate_params(mp.data(), 2, p);
  mp[0].weight = 1;
  p.lambda = NAN;
  CHECK_THROWS_CODE(validate_params(mp.data(), 2, p), RECIPE_INVALID);
  p.lambda = 1;
  p.method = Method::TiesSV;
  CHECK_THROWS_CODE(validate_params(mp.data(), 2, p), RECIPE_INVALID);  // no favored model
  mp[0].favored = mp[1].favored = true;
  CHECK_THROWS_CODE(validate_params(mp.data(), 2, p), RECIPE_INVALID);  // two favored
  mp[1].favored = false;
  validate_params(mp.data(), 2, p);
  p.consensus = Consensus::Count;
  CHECK_THROWS_CODE(validate_params(mp.data(), 2, p), RECIPE_INVALID);
  p.consensus = Consensus::Sum;
  p.slack = -1;
  CHECK_THROWS_CODE(validate_params(mp.data(), 2, p), RECIPE_INVALID);
  p.slack = 0.1;
  mp[0].weight = 0;
  CHECK_THROWS_CODE(validate_params(mp.data(), 2, p), RECIPE_INVALID);
  std::vector<ModelParams> lin = {{1, 1, false}, {-1, 1, false}};
  MergeParams pl;
  pl.method = Method::Linear;
  CHECK_THROWS_CODE(validate_params(lin.data(), 2, pl), RECIPE_INVALID);  // normalize by 0
  pl.normalize = false;
  validate_params(lin.data(), 2, pl);
  // caller bugs
  ThreadPool pool(1);
  float b[2] = {0, 0}, x[2] = {1, 1}, o[2];
  const float* xs[1] = {x};
  std::vector<ModelParams> one = {{1, 1, true}};
  MergeParams ps;
  ps.method = Method::TiesSV;  // model scope without a plan
  CHECK_THROWS_CODE(merge_tensor(o, nullptr, b, xs, 1, 2, one.data(), ps, pool), INTERNAL);
  MergeParams pt;
  CHECK_THROWS_CODE(merge_tensor(o, nullptr, nullptr, xs, 1, 2, one.data(), pt, pool), INTERNAL);  // ties without base
}

TEST(cancel_raises_cancelled) {
  std::mt19937_64 rng(5);
  ref::Tensor t = make_tensor(rng, 200000, 2, 0, DType::F32);
  std::vector<ModelParams> mp = {{1, 0.2, false}, {1, 1, false}};
  MergeParams p;
  std::atomic<bool> cancel{true};
  ThreadPool pool(2);
  std::vector<const float*> ptr = {t.models[0].data(), t.models[1].data()};
  std::vector<float> out(t.base.size());
  CHECK_THROWS_CODE(merge_tensor(out.data(), nullptr, t.base.data(), ptr.data(), 2, out.size(), mp.data(), p, pool, &cancel),
                    CANCELLED);
  p.method = Method::Linear;
  CHECK_THROWS_CODE(merge_tensor(out.data(), nullptr, t.base.data(), ptr.data(), 2, out.size(), mp.data(), p, pool, &cancel),
                    CANCELLED);
}

TEST(nan_inputs_are_deterministic_and_match_reference) {
  // NaN deltas rank above +inf in the trim; election sums with NaN are NaN -> majority -1.
  ref::Tensor t{"t", {0, 0, 0, 0, 0, 0}, {{NAN, 1, INFINITY, -2, 0.5f, 3}, {1, -1, 1, 1, 1, NAN}}};
  std::vector<ModelParams> mp = {{1, 0.34, false}, {1, 1, false}};  // k = 2: NaN, inf
  MergeParams p;
  std::vector<float> want, got;
  TensorStats a, b;
  ref::merge(&want, &a, t, mp, p);
  run_kernel(&got, &b, t, mp, p, 2);
  CHECK(same_bits(got, want));
  std::string why;
  CHECK(same_stats(b, a, 1e-12, &why));
  CHECK(std::isnan(b.models[0].threshold) == false);  // 2nd largest is +inf
  CHECK_EQ(b.models[0].threshold, INFINITY);
}
