// The one-pass density sweep (sweep_tensor) against single analyses
// (analyze_tensor) at every grid point, on BF16 data with many threshold ties
// spread over several chunks: counts and thresholds exactly, discarded L1 to
// 1e-9 relative (summed in another order). Covers both ways the sweep selects
// its cuts: sampled bin windows (threshold and per-chunk tie counts from one
// pass), and histograms plus the tie-count pass when a window misses.
// (test/unit/engine-api/sweep.test.ts checks the same through the Node API.)
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "dtype.h"
#include "kernels/kernels.h"
#include "kernels/tile_ops.h"
#include "merge_kernels.h"
#include "test_main.h"
#include "test_util.h"
#include "thread_pool.h"
#include "topk.h"

using namespace ms;

namespace {

const std::vector<double> kGrid = {0.01, 0.2, 0.4, 0.6, 0.8, 1.0};  // the paper's

struct Family {
  std::vector<float> base;
  std::vector<std::vector<float>> models;
};

// BF16 deltas quantized to a few hundred magnitudes: every cut has thousands of ties.
Family make_family(uint64_t n, uint32_t n_models, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> w(0.f, 0.02f);
  std::uniform_int_distribution<int> level(1, 300), coin(0, 1);
  Family f;
  f.base.resize(n);
  for (float& v : f.base) v = round_to(DType::BF16, w(rng));
  f.models.assign(n_models, std::vector<float>(n));
  for (auto& m : f.models)
    for (uint64_t j = 0; j < n; ++j) {
      const float delta = float(level(rng)) * (coin(rng) ? 1e-5f : -1e-5f);
      m[j] = round_to(DType::BF16, f.base[j] + delta);
    }
  return f;
}

MergeParams bf16_ties() {
  MergeParams p;
  p.method = Method::Ties;
  p.normalize = true;
  p.compute = DType::BF16;
  return p;
}

bool close_rel(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::fmax(1e-30, std::fabs(b)); }

// Every grid point of the sweep equals analyze_tensor at those densities.
void check_sweep_equals_single_analyses(const Family& f, const MergeParams& p) {
  const uint32_t M = uint32_t(f.models.size());
  const uint64_t n = f.base.size();
  std::vector<const float*> ptrs;
  for (const auto& m : f.models) ptrs.push_back(m.data());
  std::vector<ModelParams> mp(M);
  for (ModelParams& m : mp) m.weight = 1;
  ThreadPool pool(2);
  std::vector<TensorStats> points;
  sweep_tensor(&points, f.base.data(), ptrs.data(), M, n, mp.data(), p, kGrid.data(), uint32_t(kGrid.size()), pool);
  const uint64_t D = kGrid.size();
  CHECK_EQ(points.size(), uint64_t(D * D));
  for (uint64_t pt = 0; pt < points.size(); ++pt) {
    std::vector<ModelParams> at = mp;
    at[0].density = kGrid[pt / D];
    at[1].density = kGrid[pt % D];
    TensorStats single;
    analyze_tensor(&single, f.base.data(), ptrs.data(), M, n, at.data(), p, pool);
    const TensorStats& s = points[pt];
    CHECK_EQ(s.sign_conflicts, single.sign_conflicts);
    CHECK_EQ(s.n_positions_no_contributor, single.n_positions_no_contributor);
    CHECK_EQ(s.n_majority_negative, single.n_majority_negative);
    for (uint32_t i = 0; i < M; ++i) {
      const ModelTensorStats &a = s.models[i], &b = single.models[i];
      CHECK_EQ(a.k, b.k);
      CHECK_EQ(f32_bits(a.threshold), f32_bits(b.threshold));
      CHECK_EQ(a.n_kept_at_threshold, b.n_kept_at_threshold);
      CHECK_EQ(a.nnz_trimmed, b.nnz_trimmed);
      CHECK_EQ(a.n_discarded_by_sign_election, b.n_discarded_by_sign_election);
      CHECK_EQ(a.n_contributing, b.n_contributing);
      CHECK_EQ(a.in_conflict, b.in_conflict);
      CHECK_EQ(a.conflicts_won, b.conflicts_won);
      CHECK(close_rel(a.l1_discarded_by_sign_election, b.l1_discarded_by_sign_election));
    }
  }
}

}  // namespace

TEST(bf16_sweep_selects_its_cuts_from_sampled_bin_windows) {
  const Family f = make_family(5 * 65536 + 4321, 2, 11);  // 6 chunks, 5 trimmed levels per model
  const uint64_t hits = kern::g_tie_window_hits, misses = kern::g_tie_window_misses;
  check_sweep_equals_single_analyses(f, bf16_ties());
  CHECK_EQ(kern::g_tie_window_hits - hits, uint64_t(10));
  CHECK_EQ(kern::g_tie_window_misses - misses, uint64_t(0));
}

TEST(bf16_sweep_falls_back_to_the_tie_count_pass_when_the_sample_misleads) {
  // The sampled positions (topk_sample_position) hold the largest deltas, so
  // every predicted window lies above the real threshold bins.
  Family f = make_family(5 * 65536 + 4321, 2, 12);
  const uint64_t n = f.base.size();
  for (auto& m : f.models)
    for (uint64_t s = 0; s < kern::kTopkSample; ++s) {
      const uint64_t j = kern::topk_sample_position(s, n);
      m[j] = round_to(DType::BF16, f.base[j] + 0.5f);
    }
  const uint64_t misses = kern::g_tie_window_misses;
  check_sweep_equals_single_analyses(f, bf16_ties());
  CHECK(kern::g_tie_window_misses - misses > 0);
}

TEST(bf16_sweep_with_count_election_matches_too) {
  Family f = make_family(2 * 65536 + 99, 2, 13);
  MergeParams p = bf16_ties();
  p.consensus = Consensus::Count;
  check_sweep_equals_single_analyses(f, p);
}

TEST(sweep_levels_kernel_equals_counting_each_level) {
  // Reference: f[j] = #levels with |d| key < threshold. Fast path (<= 8 non-zero
  // thresholds, zeros dropped) and the general path (more than 8).
  std::mt19937_64 rng(5);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> d(1000);
  for (float& v : d) v = g(rng);
  d[0] = 0.f;
  d[1] = -0.f;
  d[2] = std::nanf("");
  for (uint32_t n_levels : {1u, 3u, 6u, 8u, 9u, 12u}) {
    std::vector<uint32_t> tc(n_levels);
    for (uint32_t u = 0; u < n_levels; ++u) tc[u] = u % 3 == 1 ? 0u : mag_key(d[10 + u]);  // some "keep all" levels
    std::vector<uint32_t> f(d.size(), 99);
    kern::t_sweep_levels(f.data(), d.data(), d.size(), tc.data(), n_levels);
    for (size_t j = 0; j < d.size(); ++j) {
      uint32_t want = 0;
      for (uint32_t u = 0; u < n_levels; ++u) want += mag_key(d[j]) < tc[u];
      CHECK_EQ(f[j], want);
    }
  }
}
