// mergekit's tie order (kernels/tie_order.h) against a complete sort.
//
// 1. The port core/kernels/introsort.h equals libstdc++'s std::sort (the
//    algorithm torch's CPU sort runs) on tie-heavy arrays, both comparators.
// 2. The expected-O(n) chain (mergekit_tie_bits, the selection the kernels
//    use) keeps exactly the ties a full sort puts in the top set: sizes 1-20,
//    around the insertion threshold (16/17/32/33), 1e3, 1e5, 1e6, 1e7; few
//    distinct values, all equal, NaN and +-0 keys; McIlroy's adversary
//    (heap-sort fallback, checked by counter); several cuts of one ranking;
//    1..4 threads, the parallel partition forced on small ranges too.
// 3. Through merge_tensor: ties / breadcrumbs keep the ties the full-sort
//    reference keeps, for any thread count, in both compute dtypes; the index
//    rule still keeps the lowest flat indices.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "dtype.h"
#include "kernels/introsort.h"
#include "kernels/tie_order.h"
#include "merge_kernels.h"
#include "sort_ref.h"
#include "test_main.h"
#include "thread_pool.h"
#include "topk.h"

using namespace ms;

namespace {

constexpr uint32_t kNaN = kNaNKey;

// Keys with few distinct values (d of them, spread over the float line).
std::vector<uint32_t> few_distinct(uint64_t n, uint32_t d, std::mt19937_64& rng) {
  std::vector<uint32_t> k(n);
  for (auto& x : k) x = mag_key(float(rng() % d) * 0.0625f);
  return k;
}

// Checks the chain against the complete sort for cuts at ks (one ranking).
// use_std: also against libstdc++'s std::sort.
bool check_cuts(const std::vector<uint32_t>& keys, const std::vector<uint64_t>& ks, bool ascending, ThreadPool& pool,
                bool use_std, const char* what) {
  const uint64_t n = keys.size();
  const std::vector<sortref::Pair> sorted = sortref::full_sort(keys, ascending, /*use_std=*/false);
  std::vector<kern::KeyCut> cuts;
  std::vector<sortref::TopSet> want;
  for (uint64_t k : ks) {
    if (k == 0 || k > n) continue;
    want.push_back(sortref::top_set(keys, sorted, k, ascending));
    kern::KeyCut c;
    c.k = k;
    c.T = want.back().T;
    cuts.push_back(c);
  }
  if (use_std) {
    const std::vector<sortref::Pair> s2 = sortref::full_sort(keys, ascending, /*use_std=*/true);
    for (uint64_t p = 0; p < n; ++p)
      if (s2[p].idx != sorted[p].idx) {
        std::fprintf(stderr, "  %s: port differs from std::sort at position %llu\n", what, (unsigned long long)p);
        return false;
      }
  }
  kern::mergekit_tie_bits(keys.data(), n, ascending, cuts, pool);
  for (size_t c = 0; c < cuts.size(); ++c)
    if (cuts[c].bits != want[c].bits) {
      std::fprintf(stderr, "  %s: n=%llu k=%llu %s: kept ties differ (T %08x, %llu ties, %llu kept)\n", what,
                   (unsigned long long)n, (unsigned long long)cuts[c].k, ascending ? "asc" : "desc", want[c].T,
                   (unsigned long long)want[c].n_equal, (unsigned long long)want[c].kept);
      return false;
    }
  return true;
}

}  // namespace

TEST(introsort_port_equals_libstdcxx_std_sort) {
#if defined(__GLIBCXX__)
  std::mt19937_64 rng(11);
  int compared = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const uint64_t n = trial < 200 ? uint64_t(trial) : 1 + rng() % 5000;
    std::vector<uint32_t> keys = few_distinct(n, 1 + uint32_t(rng() % 12), rng);
    for (auto& x : keys)
      if (rng() % 40 == 0) x = kNaN;
    for (bool asc : {false, true}) {
      const auto a = sortref::full_sort(keys, asc, true), b = sortref::full_sort(keys, asc, false);
      bool same = true;
      for (uint64_t p = 0; p < n; ++p) same &= a[p].idx == b[p].idx;
      CHECK(same);
      ++compared;
    }
  }
  // The adversary's inputs (heap-sort fallback) with ties.
  for (uint32_t n : {100u, 1000u, 20000u})
    for (uint32_t q : {1u, 3u, 16u}) {
      std::vector<uint32_t> v = sortref::antiqsort(n), keys(n);
      for (uint32_t j = 0; j < n; ++j) keys[j] = mag_key(float(v[j] / q));
      const auto a = sortref::full_sort(keys, true, true), b = sortref::full_sort(keys, true, false);
      bool same = true;
      for (uint32_t p = 0; p < n; ++p) same &= a[p].idx == b[p].idx;
      CHECK(same);
    }
  CHECK(compared == 6000);
#else
  std::printf("  (skipped: not built with libstdc++; the port is still checked against itself below)\n");
#endif
}

TEST(chain_keeps_the_ties_a_full_sort_keeps_small_sizes) {
  ThreadPool pool(1);
  std::mt19937_64 rng(5);
  int checks = 0;
  for (uint64_t n = 1; n <= 40; ++n)
    for (int rep = 0; rep < 30; ++rep) {
      std::vector<uint32_t> keys = few_distinct(n, 1 + uint32_t(rng() % 4), rng);
      if (rep % 5 == 0)
        for (auto& x : keys) x = rng() % 3 == 0 ? kNaN : mag_key(rng() % 2 ? 0.f : -0.f);
      std::vector<uint64_t> ks;
      for (uint64_t k = 1; k <= n; ++k) ks.push_back(k);
      for (bool asc : {false, true}) {
        // one cut at a time and all cuts of the ranking at once
        for (uint64_t k : ks) CHECK(check_cuts(keys, {k}, asc, pool, true, "small"));
        CHECK(check_cuts(keys, ks, asc, pool, false, "small, all cuts"));
        ++checks;
      }
    }
  CHECK(checks == 2400);
}

TEST(chain_around_the_insertion_threshold_and_midsize) {
  ThreadPool pool(2);
  std::mt19937_64 rng(6);
  for (uint64_t n : {16ull, 17ull, 32ull, 33ull, 1000ull, 4099ull})
    for (uint32_t d : {1u, 2u, 3u, 7u, 50u})
      for (int rep = 0; rep < 20; ++rep) {
        const std::vector<uint32_t> keys = few_distinct(n, d, rng);
        std::vector<uint64_t> ks = {1 + rng() % n, 1 + rng() % n, n / 2, n};
        for (bool asc : {false, true}) {
          CHECK(check_cuts(keys, {ks[0]}, asc, pool, true, "mid"));
          CHECK(check_cuts(keys, ks, asc, pool, false, "mid, several cuts"));
        }
      }
}

TEST(chain_nan_and_signed_zero_keys) {
  ThreadPool pool(2);
  std::mt19937_64 rng(8);
  for (uint64_t n : {17ull, 100ull, 5000ull}) {
    std::vector<uint32_t> keys(n);
    for (auto& x : keys) {
      const uint64_t r = rng() % 5;
      x = r == 0 ? kNaN : r == 1 ? mag_key(-0.f) : r == 2 ? mag_key(0.f) : r == 3 ? mag_key(INFINITY) : mag_key(1.f);
    }
    for (uint64_t k : {uint64_t(1), n / 5, n / 2, n - 1})
      for (bool asc : {false, true}) CHECK(check_cuts(keys, {k}, asc, pool, true, "nan/zero"));
  }
  // NaN payloads are one key (torch: every NaN compares equal)
  CHECK(mag_key(f32_from_bits(0x7fc00001u)) == mag_key(f32_from_bits(0xffa00000u)));
  CHECK(mag_key(f32_from_bits(0x7f800001u)) > mag_key(INFINITY));
}

TEST(chain_heap_sort_fallback_on_adversarial_inputs) {
  ThreadPool pool(2);
  const uint64_t before = kern::g_tie_heap_fallbacks.load();
  for (uint32_t n : {200u, 3000u, 30000u})
    for (uint32_t q : {1u, 2u, 5u, 64u}) {
      const std::vector<uint32_t> v = sortref::antiqsort(n);
      std::vector<uint32_t> up(n), down(n);
      for (uint32_t j = 0; j < n; ++j) {
        up[j] = mag_key(float(v[j] / q));
        down[j] = mag_key(float((n - 1 - v[j]) / q));
      }
      for (uint64_t k : {uint64_t(n) / 10, uint64_t(n) / 2, uint64_t(n) * 9 / 10}) {
        CHECK(check_cuts(up, {k}, true, pool, true, "adversary asc"));
        CHECK(check_cuts(down, {k}, false, pool, true, "adversary desc"));
      }
    }
  CHECK(kern::g_tie_heap_fallbacks.load() > before);  // the inputs really reach heap sort
}

TEST(chain_large_sizes_and_thread_counts) {
  std::mt19937_64 rng(9);
  const uint64_t saved_min = kern::g_tie_parallel_min, saved_block = kern::g_tie_parallel_block;
  for (uint64_t n : {100000ull, 1000000ull, 10000000ull}) {
    // BF16-like magnitudes: a normal distribution rounded to 8 mantissa bits (~1% ties at a cut)
    std::normal_distribution<float> w(0.f, 0.02f);
    std::vector<uint32_t> keys(n);
    for (auto& x : keys) x = mag_key(round_to(DType::BF16, w(rng)));
    const std::vector<uint64_t> ks = {n / 100, n / 5, n / 2};
    for (bool asc : {false, true}) {
      const std::vector<sortref::Pair> sorted = sortref::full_sort(keys, asc, n <= 1000000);
      std::vector<sortref::TopSet> want;
      for (uint64_t k : ks) want.push_back(sortref::top_set(keys, sorted, k, asc));
      for (unsigned threads : {1u, 2u, 3u, 4u}) {
        ThreadPool pool(threads);
        for (int forced = 0; forced < 2; ++forced) {
          kern::g_tie_parallel_min = forced ? 1000 : saved_min;
          kern::g_tie_parallel_block = forced ? 997 : saved_block;
          std::vector<kern::KeyCut> cuts;
          for (size_t c = 0; c < ks.size(); ++c) cuts.push_back({ks[c], want[c].T, {}});
          kern::mergekit_tie_bits(keys.data(), n, asc, cuts, pool);
          for (size_t c = 0; c < ks.size(); ++c) CHECK(cuts[c].bits == want[c].bits);
          std::vector<kern::KeyCut> one = {{ks[1], want[1].T, {}}};
          kern::mergekit_tie_bits(keys.data(), n, asc, one, pool);
          CHECK(one[0].bits == want[1].bits);
        }
      }
    }
  }
  kern::g_tie_parallel_min = saved_min;
  kern::g_tie_parallel_block = saved_block;
  CHECK(kern::g_tie_parallel_partitions.load() > 0);
}

TEST(chain_all_equal_and_two_values_large) {
  ThreadPool pool(2);
  for (uint64_t n : {1000ull, 100000ull, 1000003ull}) {
    std::vector<uint32_t> all(n, mag_key(0.5f)), two(n);
    for (uint64_t j = 0; j < n; ++j) two[j] = mag_key(j % 3 ? 0.5f : 0.25f);
    for (uint64_t k : {uint64_t(1), n / 3, n / 2, n - 1})
      for (bool asc : {false, true}) {
        CHECK(check_cuts(all, {k}, asc, pool, n <= 100000, "all equal"));
        CHECK(check_cuts(two, {k}, asc, pool, n <= 100000, "two values"));
      }
  }
}

// The density sweep's case: one ranking with many cuts at distinct thresholds,
// listed in no particular order (the groups are renumbered by threshold), a
// NaN threshold among them; every thread count, the parallel partition forced
// on and off, the vectorized and the portable stopper scans: the kept ties
// equal the full sort's every time.
TEST(chain_many_thresholds_listed_unsorted_any_threads_and_scan) {
  std::mt19937_64 rng(21);
  const uint64_t saved_min = kern::g_tie_parallel_min, saved_block = kern::g_tie_parallel_block;
  const uint64_t n = 300000;
  std::normal_distribution<float> w(0.f, 0.02f);
  std::vector<uint32_t> keys(n);
  for (auto& x : keys) x = rng() % 50 == 0 ? kNaN : mag_key(round_to(DType::BF16, w(rng)));
  const std::vector<uint64_t> ks = {n / 5, 3, n / 20, n * 4 / 5, n / 2, n * 3 / 5, n / 10};
  int checked = 0;
  for (bool asc : {false, true}) {
    const std::vector<sortref::Pair> sorted = sortref::full_sort(keys, asc, false);
    std::vector<sortref::TopSet> want;
    for (uint64_t k : ks) want.push_back(sortref::top_set(keys, sorted, k, asc));
    bool nan_threshold = false;
    uint32_t distinct = 0;
    for (size_t a = 0; a < want.size(); ++a) {
      nan_threshold |= want[a].T == kNaN;
      bool seen = false;
      for (size_t b = 0; b < a; ++b) seen |= want[a].T == want[b].T;
      distinct += !seen;
    }
    CHECK(nan_threshold);  // the 3 largest keys are NaN (2% of the keys)
    CHECK(distinct == ks.size());
    for (unsigned threads : {1u, 2u, 3u})
      for (int forced = 0; forced < 2; ++forced)
        for (bool scalar : {false, true}) {
          ThreadPool pool(threads);
          kern::g_tie_parallel_min = forced ? 5000 : saved_min;
          kern::g_tie_parallel_block = forced ? 1021 : saved_block;
          kern::g_tie_scalar_scans = scalar;
          std::vector<kern::KeyCut> cuts;
          for (size_t c = 0; c < ks.size(); ++c) cuts.push_back({ks[c], want[c].T, {}});
          kern::mergekit_tie_bits(keys.data(), n, asc, cuts, pool);
          for (size_t c = 0; c < ks.size(); ++c) CHECK(cuts[c].bits == want[c].bits);
          ++checked;
        }
  }
  kern::g_tie_parallel_min = saved_min;
  kern::g_tie_parallel_block = saved_block;
  kern::g_tie_scalar_scans = false;
  CHECK(checked == 24);
}
