// sce, nuslerp, multislerp, karcher, arcee_fusion, nearswap beyond the golden
// cases: bit-identical results for 1, 2 and 3 threads on tensors spanning
// several chunks, `out` aliasing the base (or the first model, without a base)
// as the engine uses it, mergekit's validation errors, and empty tensors.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "dtype.h"
#include "errors.h"
#include "merge_kernels.h"
#include "test_main.h"
#include "test_util.h"
#include "thread_pool.h"

using namespace ms;

namespace {

struct Data {
  std::vector<float> base;
  std::vector<std::vector<float>> models;
};

Data make_data(uint64_t n, uint32_t M, uint64_t seed, DType storage) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> w(0.f, 0.02f), d(0.f, 0.003f);
  Data x;
  x.base.resize(n);
  for (auto& v : x.base) v = round_to(storage, w(rng));
  x.models.assign(M, std::vector<float>(n));
  for (auto& m : x.models)
    for (uint64_t j = 0; j < n; ++j) m[j] = round_to(storage, x.base[j] + d(rng));
  return x;
}

struct Setup {
  Method method;
  uint32_t models;
  bool base;
};

MergeParams params_for(Method m, DType compute, uint64_t rows, uint64_t cols) {
  MergeParams p;
  p.method = m;
  p.compute = compute;
  p.select_topk = 0.3;
  p.nuslerp_flatten = false;
  p.nuslerp_row_wise = true;
  p.max_iter = 4;
  p.t = 0.002;
  p.row_len = cols;
  p.dim0_len = rows;
  return p;
}

const Setup kSetups[] = {
    {Method::Sce, 3, true},        {Method::Nuslerp, 2, true},     {Method::Nuslerp, 2, false},
    {Method::Multislerp, 3, true}, {Method::Multislerp, 2, false}, {Method::Karcher, 2, true},
    {Method::Karcher, 3, false},   {Method::ArceeFusion, 1, true}, {Method::Nearswap, 1, true},
};

std::vector<float> run(const Data& x, const Setup& s, const MergeParams& p, unsigned threads, TensorStats* st,
                       bool alias) {
  ThreadPool pool(threads);
  std::vector<ModelParams> mp(s.models);
  for (uint32_t i = 0; i < s.models; ++i) mp[i].weight = 0.5 + i;
  Data copy = x;  // alias: the output overwrites the base's array (or the first model's)
  std::vector<const float*> ptr;
  for (auto& m : copy.models) ptr.push_back(m.data());
  const uint64_t n = x.base.size();
  std::vector<float> out(n);
  float* o = alias ? (s.base ? copy.base.data() : copy.models[0].data()) : out.data();
  merge_tensor(o, st, s.base ? copy.base.data() : nullptr, ptr.data(), s.models, n, mp.data(), p, pool);
  return std::vector<float>(o, o + n);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t j = 0; j < a.size(); ++j)
    if (f32_bits(a[j]) != f32_bits(b[j])) return false;
  return true;
}

bool same_stats(const TensorStats& a, const TensorStats& b) {
  if (a.sign_conflicts != b.sign_conflicts || a.n_selected != b.n_selected || a.n_fallback != b.n_fallback ||
      a.iterations != b.iterations || a.models.size() != b.models.size())
    return false;
  for (size_t i = 0; i < a.models.size(); ++i) {
    const auto &x = a.models[i], &y = b.models[i];
    if (x.k != y.k || x.nnz_trimmed != y.nnz_trimmed || x.n_contributing != y.n_contributing ||
        f32_bits(x.threshold) != f32_bits(y.threshold) || x.l1_discarded_by_sign_election != y.l1_discarded_by_sign_election)
      return false;
  }
  return true;
}

}  // namespace

TEST(newer_methods_thread_count_and_alias_determinism) {
  const uint64_t rows = 300, cols = 700;  // 210000 elements: 4 chunks of 64Ki
  for (DType d : {DType::F32, DType::BF16}) {
    const Data x = make_data(rows * cols, 3, 7, d);
    for (const Setup& s : kSetups) {
      const MergeParams p = params_for(s.method, d, rows, cols);
      TensorStats s1, s2, s3, sa;
      const auto o1 = run(x, s, p, 1, &s1, false);
      const auto o2 = run(x, s, p, 2, &s2, false);
      const auto o3 = run(x, s, p, 3, &s3, false);
      const auto oa = run(x, s, p, 3, &sa, true);
      const bool ok = same_bits(o1, o2) && same_bits(o1, o3) && same_bits(o1, oa) && same_stats(s1, s2) &&
                      same_stats(s1, s3) && same_stats(s1, sa);
      if (!ok) std::fprintf(stderr, "  %s (%s, base %d): results depend on threads or aliasing\n", method_name(s.method), dtype_name(d), s.base);
      CHECK(ok);
      bool finite = true;
      for (float v : o1) finite &= std::isfinite(v);
      CHECK(finite);
    }
  }
}

TEST(newer_methods_validation) {
  ThreadPool pool(1);
  const Data x = make_data(16, 3, 1, DType::F32);
  std::vector<const float*> ptr;
  for (auto& m : x.models) ptr.push_back(m.data());
  std::vector<ModelParams> mp(3);
  std::vector<float> out(16);
  auto merge = [&](Method m, uint32_t n_models, bool base, auto&& tweak) {
    MergeParams p;
    p.method = m;
    p.row_len = 16;
    p.dim0_len = 16;
    tweak(p);
    merge_tensor(out.data(), nullptr, base ? x.base.data() : nullptr, ptr.data(), n_models, 16, mp.data(), p, pool);
  };
  auto none = [](MergeParams&) {};
  EXPECT_ERR(merge(Method::Nuslerp, 3, true, none), RECIPE_INVALID, "nuslerp: merges exactly two models", "got 3");
  EXPECT_ERR(merge(Method::ArceeFusion, 2, true, none), RECIPE_INVALID, "arcee_fusion: merges base_model with exactly one other model");
  EXPECT_ERR(merge(Method::Nearswap, 2, true, none), RECIPE_INVALID, "nearswap: merges base_model with exactly one other model");
  EXPECT_ERR(merge(Method::Nearswap, 1, true, [](MergeParams& p) { p.t = NAN; }), RECIPE_INVALID, "nearswap: t must be a finite number");
  EXPECT_ERR(merge(Method::Sce, 2, true, [](MergeParams& p) { p.select_topk = INFINITY; }), RECIPE_INVALID, "sce: select_topk");
  EXPECT_ERR(merge(Method::Multislerp, 2, false, [](MergeParams& p) { p.eps = -1; }), RECIPE_INVALID, "multislerp: eps");
  EXPECT_ERR(merge(Method::Karcher, 2, false, [](MergeParams& p) { p.tol = NAN; }), RECIPE_INVALID, "karcher: tol");
  // base required / optional
  EXPECT_ERR(merge(Method::Sce, 2, false, none), INTERNAL, "sce: needs a base model tensor");
  merge(Method::Nuslerp, 2, false, none);
  merge(Method::Multislerp, 3, false, none);
  merge(Method::Karcher, 3, false, none);
  CHECK(method_base_optional(Method::Karcher) && !method_base_optional(Method::ArceeFusion));
  Method m;
  CHECK(method_from_name("arcee_fusion", &m) && m == Method::ArceeFusion);
  CHECK(method_from_name("della", &m) && m == Method::Della);
  CHECK(!method_from_name("ram", &m));
}

TEST(newer_methods_multislerp_zero_mean) {
  // three models whose unit vectors cancel (a, -a, and a weighted 0): mergekit raises ValueError
  ThreadPool pool(1);
  std::vector<float> a = {1, 2, 3, 4}, b = {-1, -2, -3, -4}, c = {1, 2, 3, 4};
  const float* ptr[] = {a.data(), b.data(), c.data()};
  std::vector<ModelParams> mp(3);
  mp[0].weight = 1;
  mp[1].weight = 1;
  mp[2].weight = 0;
  std::vector<float> out(4);
  MergeParams p;
  p.method = Method::Multislerp;
  for (DType d : {DType::F32, DType::BF16}) {
    p.compute = d;
    EXPECT_ERR(merge_tensor(out.data(), nullptr, nullptr, ptr, 3, 4, mp.data(), p, pool), RECIPE_INVALID,
               "multislerp: the weighted sum of the models' unit vectors is zero");
    // two models fall back to the weighted sum, as mergekit does: w0 a + w1 b = 0.5 a - 0.5 a = 0
    merge_tensor(out.data(), nullptr, nullptr, ptr, 2, 4, mp.data(), p, pool);
    for (float v : out) CHECK(v == 0.f);
  }
}

TEST(newer_methods_empty_tensor) {
  ThreadPool pool(2);
  for (const Setup& s : kSetups) {
    const float* ptr[3] = {nullptr, nullptr, nullptr};
    std::vector<ModelParams> mp(s.models);
    MergeParams p = params_for(s.method, DType::BF16, 0, 0);
    TensorStats st;
    merge_tensor(nullptr, &st, nullptr, ptr, s.models, 0, mp.data(), p, pool);
    CHECK_EQ(st.numel, uint64_t(0));
  }
}
