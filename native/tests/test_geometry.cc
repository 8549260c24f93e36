// Task-vector geometry (TensorStats::has_geometry: sums of squares, dot, sign agreement, the
// trims' mask overlap) against the plain reference ref::geometry (kernel_ref.h), on random
// F32 / F16 / BF16 tensors spanning several chunks, 1 and 2 threads, both tie orders, ties and
// ties_sv, analyses and merges, the density sweep; edge cases: an all-zero task vector, k = 0,
// threshold ties (many, and of magnitude 0), one model, three models.
// Tolerances: the float64 sums are summed in the engine's documented order by the reference,
// so they must be bit-identical (0 ULP); independently, they must lie within 1e-12 * sum|terms|
// of a long double sum in index order (the summation-error bound for < 200 chained adds).
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "dtype.h"
#include "kernel_ref.h"
#include "kernels/kernels.h"
#include "merge_kernels.h"
#include "test_main.h"
#include "thread_pool.h"

using namespace ms;

namespace {

// 3 chunks, a partial tile and a partial 8-lane group at the end.
constexpr uint64_t kN = 3 * 65536 + 1024 + 13;

enum class Data { Normal, TieHeavy, Sparse };

// Storage values exactly representable in `dt`. Normal: Gaussian deltas; TieHeavy: a few
// hundred delta magnitudes (thousands of ties at every threshold); Sparse: the model equals the
// base except on ~10% of the positions (threshold of magnitude 0 once k exceeds the non-zeros).
ref::Tensor make_tensor(uint64_t n, uint32_t M, DType dt, Data kind, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> w(0.f, 0.02f), dn(0.f, 0.002f);
  std::uniform_int_distribution<int> level(1, 300), coin(0, 1), tenth(0, 9);
  ref::Tensor t;
  t.name = "t";
  t.base.resize(n);
  for (float& v : t.base) v = round_to(dt, w(rng));
  t.models.assign(M, std::vector<float>(n));
  for (auto& m : t.models)
    for (uint64_t j = 0; j < n; ++j) {
      float delta = dn(rng);
      if (kind == Data::TieHeavy) delta = float(level(rng)) * (coin(rng) ? 1e-4f : -1e-4f);
      if (kind == Data::Sparse && tenth(rng) != 0) delta = 0.f;
      m[j] = round_to(dt, t.base[j] + delta);
    }
  return t;
}

bool sum_close(double engine, const std::vector<float>& a, const std::vector<float>& b) {
  long double s = 0, mag = 0;
  for (size_t j = 0; j < a.size(); ++j) {
    s += (long double)a[j] * b[j];
    mag += std::fabs((long double)a[j] * b[j]);
  }
  return std::fabs((long double)engine - s) <= 1e-12L * mag + 1e-300L;
}

std::vector<float> deltas(const ref::Tensor& t, uint32_t i, DType r) {
  std::vector<float> d(t.base.size());
  for (size_t j = 0; j < d.size(); ++j) d[j] = round_to(r, t.models[i][j] - t.base[j]);
  return d;
}

void check_geometry(const TensorStats& s, const ref::Geometry& g, bool masks, const char* where) {
  const uint32_t M = uint32_t(g.sum_sq.size());
  CHECK(s.has_geometry);
  CHECK_EQ(s.has_pair, M >= 2);
  CHECK_EQ(s.has_mask_overlap, masks);
  bool ok = true;
  for (uint32_t i = 0; i < M; ++i) ok &= s.models[i].tv_sum_sq == g.sum_sq[i];  // bit-identical
  if (M >= 2) {
    ok &= s.tv_dot == g.dot;
    ok &= s.n_both_nonzero == g.both_nonzero && s.n_signs_agree == g.signs_agree;
    if (masks) ok &= s.mask_intersection == g.mask_intersection && s.mask_union == g.mask_union;
  }
  if (!ok) {
    std::fprintf(stderr, "  %s: engine sq0 %.17g dot %.17g both %llu agree %llu inter %llu union %llu\n", where,
                 s.models[0].tv_sum_sq, s.tv_dot, (unsigned long long)s.n_both_nonzero,
                 (unsigned long long)s.n_signs_agree, (unsigned long long)s.mask_intersection,
                 (unsigned long long)s.mask_union);
    std::fprintf(stderr, "  %s: ref    sq0 %.17g dot %.17g both %llu agree %llu inter %llu union %llu\n", where,
                 g.sum_sq[0], g.dot, (unsigned long long)g.both_nonzero, (unsigned long long)g.signs_agree,
                 (unsigned long long)g.mask_intersection, (unsigned long long)g.mask_union);
  }
  CHECK(ok);
}

std::vector<const float*> ptrs_of(const ref::Tensor& t) {
  std::vector<const float*> p;
  for (const auto& m : t.models) p.push_back(m.data());
  return p;
}

// analyze_tensor and merge_tensor on 1 and 2 threads against the reference.
void check_case(const ref::Tensor& t, std::vector<ModelParams> mp, MergeParams p, const char* where) {
  const uint32_t M = uint32_t(t.models.size());
  const uint64_t n = t.base.size();
  const ref::Geometry g = ref::geometry(t, mp, p);
  const bool masks = M >= 2 && (p.method == Method::Ties || p.method == Method::TiesSV);
  const std::vector<const float*> ptr = ptrs_of(t);
  for (unsigned threads : {1u, 2u}) {
    ThreadPool pool(threads);
    TensorStats a, m;
    analyze_tensor(&a, t.base.data(), ptr.data(), M, n, mp.data(), p, pool);
    check_geometry(a, g, masks, where);
    std::vector<float> out(n);
    merge_tensor(out.data(), &m, t.base.data(), ptr.data(), M, n, mp.data(), p, pool);
    check_geometry(m, g, masks, where);
    // the engine merges in place: out aliases the base (or a model) array
    std::vector<float> in_place = t.base;
    TensorStats m2;
    merge_tensor(in_place.data(), &m2, in_place.data(), ptr.data(), M, n, mp.data(), p, pool);
    check_geometry(m2, g, masks, where);
    std::vector<std::vector<float>> copies = t.models;
    std::vector<const float*> cp;
    for (const auto& x : copies) cp.push_back(x.data());
    TensorStats m3;
    merge_tensor(copies[0].data(), &m3, t.base.data(), cp.data(), M, n, mp.data(), p, pool);
    check_geometry(m3, g, masks, where);
  }
  // Independent of the order: within the float64 summation bound of a long double sum.
  const std::vector<float> d0 = deltas(t, 0, p.compute);
  CHECK(sum_close(g.sum_sq[0], d0, d0));
  if (M >= 2) CHECK(sum_close(g.dot, d0, deltas(t, 1, p.compute)));
}

MergeParams params(Method m, DType compute, TieOrder order = TieOrder::Mergekit) {
  MergeParams p;
  p.method = m;
  p.compute = compute;
  p.tie_order = order;
  if (m == Method::TiesSV) {
    p.slack = 0.05;
    p.slack_scope = SlackScope::Tensor;
  }
  return p;
}

std::vector<ModelParams> models(std::vector<double> densities, int favored = -1) {
  std::vector<ModelParams> mp(densities.size());
  for (size_t i = 0; i < mp.size(); ++i) {
    mp[i].weight = i == 0 ? 1.0 : 0.5;
    mp[i].density = densities[i];
    mp[i].favored = int(i) == favored;
  }
  return mp;
}

}  // namespace

TEST(geometry_equals_reference_on_random_tensors_in_every_dtype) {
  uint64_t seed = 1;
  for (DType dt : {DType::F32, DType::F16, DType::BF16}) {
    const ref::Tensor t = make_tensor(kN, 2, dt, Data::Normal, seed++);
    for (const std::vector<double>& d : std::vector<std::vector<double>>{{0.2, 1.0}, {0.3, 0.45}, {1.0, 1.0}}) {
      check_case(t, models(d), params(Method::Ties, dt), dtype_name(dt));
      // float32 compute of 16-bit storage (recipes with dtype: float32)
      if (dt != DType::F32) check_case(t, models(d), params(Method::Ties, DType::F32), "f32 compute");
    }
  }
}

TEST(geometry_with_many_threshold_ties_follows_each_tie_order) {
  for (DType dt : {DType::BF16, DType::F32}) {
    const ref::Tensor t = make_tensor(kN, 2, dt, Data::TieHeavy, 7);
    for (TieOrder order : {TieOrder::Mergekit, TieOrder::Index}) {
      check_case(t, models({0.2, 0.45}), params(Method::Ties, dt, order), "tie-heavy");
      check_case(t, models({0.37, 0.9}), params(Method::Ties, dt, order), "tie-heavy");
    }
  }
}

TEST(geometry_masks_keep_zero_entries_at_a_zero_threshold) {
  // ~10% non-zeros: density 0.5 keeps every non-zero and then zeros by the tie rule
  const ref::Tensor t = make_tensor(kN, 2, DType::BF16, Data::Sparse, 11);
  for (TieOrder order : {TieOrder::Mergekit, TieOrder::Index})
    check_case(t, models({0.5, 0.05}), params(Method::Ties, DType::BF16, order), "zero threshold");
}

TEST(geometry_of_an_all_zero_task_vector_is_zero_and_k0_keeps_nothing) {
  ref::Tensor t = make_tensor(kN, 2, DType::BF16, Data::Normal, 13);
  t.models[0] = t.base;  // tau_0 = 0
  check_case(t, models({0.2, 1.0}), params(Method::Ties, DType::BF16), "zero tau");
  ThreadPool pool(2);
  const std::vector<ModelParams> mp = models({0.2, 1.0});
  TensorStats s;
  const std::vector<const float*> ptr = ptrs_of(t);
  analyze_tensor(&s, t.base.data(), ptr.data(), 2, kN, mp.data(), params(Method::Ties, DType::BF16), pool);
  CHECK_EQ(s.models[0].tv_sum_sq, 0.0);
  CHECK_EQ(s.tv_dot, 0.0);
  CHECK_EQ(s.n_both_nonzero, uint64_t(0));
  CHECK(s.models[1].tv_sum_sq > 0);
  // mask of tau_0: int(0.2 n) zero entries; of tau_1: everything
  CHECK_EQ(s.mask_intersection, uint64_t(0.2 * double(kN)));
  CHECK_EQ(s.mask_union, kN);

  // k = 0: density 0 keeps nothing; density 1e-9 gives int(d n) = 0 too
  const ref::Tensor u = make_tensor(kN, 2, DType::F32, Data::Normal, 17);
  for (double d0 : {0.0, 1e-9}) {
    check_case(u, models({d0, 0.3}), params(Method::Ties, DType::F32), "k = 0");
    TensorStats k0;
    const std::vector<ModelParams> mk = models({d0, 0.3});
    const std::vector<const float*> up = ptrs_of(u);
    analyze_tensor(&k0, u.base.data(), up.data(), 2, kN, mk.data(), params(Method::Ties, DType::F32), pool);
    CHECK_EQ(k0.mask_intersection, uint64_t(0));
    CHECK_EQ(k0.mask_union, uint64_t(0.3 * double(kN)));
  }
}

TEST(geometry_of_ties_sv_one_and_three_models_and_other_trims) {
  const ref::Tensor t2 = make_tensor(kN, 2, DType::BF16, Data::TieHeavy, 19);
  check_case(t2, models({0.2, 1.0}, 0), params(Method::TiesSV, DType::BF16), "ties_sv");
  const ref::Tensor t1 = make_tensor(kN, 1, DType::F16, Data::Normal, 23);
  check_case(t1, models({0.3}), params(Method::Ties, DType::F16), "one model");
  const ref::Tensor t3 = make_tensor(kN, 3, DType::BF16, Data::Normal, 29);
  check_case(t3, models({0.2, 0.6, 1.0}), params(Method::Ties, DType::BF16), "three models");
  // No magnitude top-k: norms, dot and signs of the untrimmed task vectors, no mask overlap.
  for (Method m : {Method::BreadcrumbsTies, Method::DareTies, Method::DellaLinear}) {
    MergeParams p = params(m, DType::BF16);
    check_case(t2, models({0.5, 0.8}), p, method_name(m));
  }
}

TEST(density_sweep_carries_the_geometry_of_each_single_analysis) {
  const std::vector<double> grid = {0.0, 0.01, 0.2, 0.45, 1.0};
  for (DType dt : {DType::BF16, DType::F32}) {
    const ref::Tensor t = make_tensor(kN, 2, dt, dt == DType::BF16 ? Data::TieHeavy : Data::Normal, 31);
    const std::vector<const float*> ptr = ptrs_of(t);
    std::vector<ModelParams> mp = models({1, 1});
    const MergeParams p = params(Method::Ties, dt);
    for (unsigned threads : {1u, 2u}) {
      ThreadPool pool(threads);
      std::vector<TensorStats> points;
      sweep_tensor(&points, t.base.data(), ptr.data(), 2, kN, mp.data(), p, grid.data(), uint32_t(grid.size()), pool);
      CHECK_EQ(points.size(), grid.size() * grid.size());
      for (size_t pt = 0; pt < points.size(); ++pt) {
        std::vector<ModelParams> at = mp;
        at[0].density = grid[pt / grid.size()];
        at[1].density = grid[pt % grid.size()];
        check_geometry(points[pt], ref::geometry(t, at, p), true, "sweep point");
      }
    }
  }
}
