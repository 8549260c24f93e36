// breadcrumbs, dare_linear / dare_ties, slerp, model_stock beyond the golden
// cases: mergekit's breadcrumbs edge case and its opt-out, DARE's statistics
// (it cannot be compared bit-for-bit with any other engine), determinism over
// thread counts, and validation. The TS reference differential test
// (test/unit/native) checks every method against the simple implementation.
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
  std::vector<const float*> ptrs() const {
    std::vector<const float*> p;
    for (auto& m : models) p.push_back(m.data());
    return p;
  }
};

// models = base + shared * c + independent noise (shared = 1: pairwise cosine ~0.5).
Data make_data(uint64_t n, uint32_t M, uint64_t seed, DType storage = DType::F32, float shared = 0.f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> w(0.f, 0.02f), d(0.f, 0.002f);
  Data x;
  x.base.resize(n);
  for (auto& v : x.base) v = round_to(storage, w(rng));
  std::vector<float> common(n);
  for (auto& v : common) v = shared * d(rng);
  x.models.assign(M, std::vector<float>(n));
  for (auto& m : x.models)
    for (uint64_t j = 0; j < n; ++j) m[j] = round_to(storage, x.base[j] + common[j] + d(rng));
  return x;
}

struct Run {
  std::vector<float> out;
  TensorStats st;
};

Run run(const Data& x, std::vector<ModelParams> mp, const MergeParams& p, unsigned threads) {
  ThreadPool pool(threads);
  Run r;
  r.out.resize(x.base.size());
  auto ptrs = x.ptrs();
  merge_tensor(r.out.data(), &r.st, x.base.data(), ptrs.data(), uint32_t(ptrs.size()), x.base.size(), mp.data(), p, pool);
  return r;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t j = 0; j < a.size(); ++j)
    if (f32_bits(a[j]) != f32_bits(b[j])) return false;
  return true;
}

MergeParams params(Method m) {
  MergeParams p;
  p.method = m;
  p.normalize = false;
  p.tensor_key = dare_tensor_key("model.layers.0.mlp.up_proj.weight");
  return p;
}

}  // namespace

TEST(breadcrumbs_mergekit_edge_case_drops_small_tensors) {
  // numel 60, gamma 0.01: int(0.6) = 0 outliers -> mergekit's slice [n_bot:-0] is empty.
  const Data x = make_data(60, 2, 1);
  MergeParams p = params(Method::Breadcrumbs);
  std::vector<ModelParams> mp(2);
  for (auto& m : mp) { m.density = 0.5; m.gamma = 0.01; }
  Run r = run(x, mp, p, 2);
  CHECK(same_bits(r.out, x.base));  // both task vectors dropped
  CHECK(r.st.models[0].dropped_no_outliers);
  CHECK_EQ(r.st.models[0].k, uint64_t(0));
  CHECK_EQ(r.st.models[0].nnz_trimmed, uint64_t(0));

  p.keep_if_no_outliers = true;  // intended behaviour: keep the int(0.5 * 60) = 30 largest
  r = run(x, mp, p, 2);
  CHECK(!r.st.models[0].dropped_no_outliers);
  CHECK_EQ(r.st.models[0].k, uint64_t(30));
  CHECK_EQ(r.st.models[0].n_top_removed, uint64_t(0));
  CHECK_EQ(r.st.models[1].nnz_trimmed, uint64_t(30));
  // == ties-style trim at density 0.5 without election: task arithmetic of the top-30 entries
  MergeParams t = params(Method::Ties);
  t.normalize = false;
  Run ties = run(x, mp, t, 2);
  CHECK_EQ(ties.st.models[0].threshold, r.st.models[0].threshold);
}

TEST(breadcrumbs_removes_exactly_the_top_outliers) {
  const uint64_t n = 1000;
  Data x = make_data(n, 1, 2);
  MergeParams p = params(Method::Breadcrumbs);
  std::vector<ModelParams> mp(1);
  mp[0].density = 0.9;
  mp[0].gamma = 0.05;  // target 900, n_top 50, n_bot 50
  Run r = run(x, mp, p, 1);
  std::vector<std::pair<float, uint64_t>> order;
  for (uint64_t j = 0; j < n; ++j) order.push_back({std::fabs(x.models[0][j] - x.base[j]), j});
  std::stable_sort(order.begin(), order.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (uint64_t rank = 0; rank < n; ++rank) {
    const uint64_t j = order[rank].second;
    const bool kept = r.out[j] != x.base[j];
    CHECK_EQ(kept, rank >= 50 && rank < 950);
  }
  CHECK_EQ(r.st.models[0].n_top_removed, uint64_t(50));
  CHECK_EQ(r.st.models[0].k, uint64_t(900));
  CHECK_EQ(r.st.models[0].top_threshold, order[49].first);
  CHECK_EQ(r.st.models[0].threshold, order[949].first);
}

TEST(dare_generator_is_fixed) {
  // The spec's constants (docs/merge-methods.md), recomputed by hand here:
  // FNV-1a 64 of "" is the offset basis; of "a" is 0xaf63dc4c8601ec8c.
  CHECK_EQ(dare_tensor_key(""), uint64_t(0xcbf29ce484222325ull));
  CHECK_EQ(dare_tensor_key("a"), uint64_t(0xaf63dc4c8601ec8cull));
  CHECK_EQ(dare_keep_threshold(0.5), uint64_t(1) << 52);
  CHECK_EQ(dare_keep_threshold(0.0), uint64_t(0));
  const uint64_t s = dare_stream(42, dare_tensor_key("w"), 0);
  CHECK(s != dare_stream(43, dare_tensor_key("w"), 0));
  CHECK(s != dare_stream(42, dare_tensor_key("w"), 1));
  CHECK(dare_draw(s, 0) < (uint64_t(1) << 53));
}

TEST(dare_statistics_kept_fraction_and_l1_norm) {
  const uint64_t n = 300000;
  const Data x = make_data(n, 1, 3);
  for (double density : {0.1, 0.5, 0.9}) {
    MergeParams p = params(Method::DareLinear);
    p.seed = 7;
    std::vector<ModelParams> mp(1);
    mp[0].density = density;
    Run r = run(x, mp, p, 2);
    const double kept = double(r.st.models[0].k);
    const double sigma = std::sqrt(double(n) * density * (1 - density));
    CHECK(std::fabs(kept - density * n) < 5 * sigma);
    CHECK(r.st.models[0].rescaled);
    // L1 norm of the task vector is preserved (up to float32 rounding of each entry)
    double l1_before = 0, l1_after = 0;
    for (uint64_t j = 0; j < n; ++j) {
      l1_before += std::fabs(double(x.models[0][j] - x.base[j]));
      l1_after += std::fabs(double(r.out[j]) - double(x.base[j]));
    }
    CHECK(std::fabs(l1_after / l1_before - 1) < 1e-4);
    // kept entries are d * ratio (F32, weight 1, no lambda), dropped entries leave the base
    const float ratio = r.st.models[0].rescale_factor;
    CHECK(std::fabs(ratio - 1 / density) < 0.05 / density);
    const uint64_t stream = dare_stream(7, p.tensor_key, 0), thr = dare_keep_threshold(density);
    uint64_t mismatches = 0;
    for (uint64_t j = 0; j < n; ++j) {
      const float d = x.models[0][j] - x.base[j];
      const bool keep = dare_draw(stream, j) < thr;
      const float want = keep ? x.base[j] + d * ratio : x.base[j] + 0.f;
      mismatches += f32_bits(want) != f32_bits(r.out[j]);
    }
    CHECK_EQ(mismatches, uint64_t(0));
  }
}

TEST(dare_masks_depend_on_seed_tensor_and_model_only) {
  const uint64_t n = 200000;
  const Data x = make_data(n, 2, 4);
  MergeParams p = params(Method::DareTies);
  p.seed = 11;
  std::vector<ModelParams> mp(2);
  mp[0].density = 0.3;
  mp[1].density = 0.6;
  const Run a = run(x, mp, p, 1);
  const Run b = run(x, mp, p, 2);
  const Run c = run(x, mp, p, 3);
  CHECK(same_bits(a.out, b.out));  // thread count does not matter
  CHECK(same_bits(a.out, c.out));
  CHECK_EQ(a.st.models[1].k, c.st.models[1].k);
  // another seed or tensor name: a different, independent mask (overlap ~ density^2)
  for (int variant = 0; variant < 2; ++variant) {
    MergeParams q = p;
    if (variant == 0) q.seed = 12;
    else q.tensor_key = dare_tensor_key("model.layers.1.mlp.up_proj.weight");
    const uint64_t s1 = dare_stream(p.seed, p.tensor_key, 0), s2 = dare_stream(q.seed, q.tensor_key, 0);
    const uint64_t thr = dare_keep_threshold(0.3);
    uint64_t both = 0;
    for (uint64_t j = 0; j < n; ++j) both += (dare_draw(s1, j) < thr) && (dare_draw(s2, j) < thr);
    const double want = 0.09 * n, sigma = std::sqrt(n * 0.09 * 0.91);
    CHECK(std::fabs(double(both) - want) < 5 * sigma);
    CHECK(!same_bits(run(x, mp, q, 2).out, a.out));
  }
}

TEST(dare_density_one_and_zero) {
  const Data x = make_data(5000, 1, 5);
  MergeParams p = params(Method::DareLinear);
  std::vector<ModelParams> mp(1);
  mp[0].density = 1.0;  // no mask, no rescale: task arithmetic
  Run r = run(x, mp, p, 2);
  CHECK(same_bits(r.out, x.models[0]));
  CHECK(!r.st.models[0].rescaled);
  mp[0].density = 0.0;  // everything dropped, nothing to rescale
  r = run(x, mp, p, 2);
  CHECK(same_bits(r.out, x.base));
  CHECK_EQ(r.st.models[0].k, uint64_t(0));
}

TEST(interpolations_are_thread_count_independent) {
  const Data x = make_data(300000, 3, 6, DType::BF16, 1.f);
  MergeParams s = params(Method::Slerp);
  s.t = 0.3;
  std::vector<ModelParams> one(1);
  Data x1 = x;
  x1.models.resize(1);
  CHECK(same_bits(run(x1, one, s, 1).out, run(x1, one, s, 3).out));
  MergeParams m = params(Method::ModelStock);
  std::vector<ModelParams> three(3);
  for (DType c : {DType::F32, DType::BF16}) {
    m.compute = c;
    for (bool fw : {false, true}) {
      m.filter_wise = fw;
      m.row_len = 600;
      const Run a = run(x, three, m, 1), b = run(x, three, m, 2);
      CHECK(same_bits(a.out, b.out));
      CHECK(a.st.has_interpolation_t);
      // cos ~ 0.5 -> t = 3 * 0.5 / (1 + 2 * 0.5) = 0.75
      CHECK(std::fabs(a.st.interpolation_t - 0.75) < 0.02);
    }
  }
  // slerp at t = 0 is the base, at t = 1 the model (colinear or not)
  s.t = 0;
  CHECK(same_bits(run(x1, one, s, 2).out, x.base));
  s.t = 1;
  const Run at1 = run(x1, one, s, 2);
  uint64_t far = 0;
  for (size_t j = 0; j < at1.out.size(); ++j) far += std::fabs(at1.out[j] - x1.models[0][j]) > 1e-6f;
  CHECK_EQ(far, uint64_t(0));
}

TEST(new_method_validation) {
  const Data x = make_data(100, 2, 7);
  std::vector<ModelParams> mp(2);
  MergeParams s = params(Method::Slerp);
  EXPECT_ERR(run(x, mp, s, 1), RECIPE_INVALID, "slerp", "exactly one other model");
  Data x1 = x;
  x1.models.resize(1);
  std::vector<ModelParams> one(1);
  s.t = 1.5;
  EXPECT_ERR(run(x1, one, s, 1), RECIPE_INVALID, "t must be");
  MergeParams m = params(Method::ModelStock);
  EXPECT_ERR(run(x1, one, m, 1), RECIPE_INVALID, "model_stock", "at least two");
  MergeParams b = params(Method::Breadcrumbs);
  mp[1].gamma = -0.1;
  EXPECT_ERR(run(x, mp, b, 1), RECIPE_INVALID, "model 1", "gamma");
}

// The generator against draws computed independently with Python integers
// (test/fixtures/dare-rng-vectors.py), shared with the TS reference's test.
TEST(dare_generator_matches_reference_vectors) {
  std::FILE* f = std::fopen("../../test/fixtures/dare-rng-vectors.json", "rb");
  CHECK(f != nullptr);
  if (!f) return;
  std::string text;
  char buf[4096];
  for (size_t got; (got = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, got);
  std::fclose(f);
  // Minimal scan of the flat fixture: the fields of each vector appear in a fixed order.
  auto field = [&](size_t from, const std::string& key, size_t* end) {
    const size_t k = text.find("\"" + key + "\":", from);
    if (k == std::string::npos) return std::string();
    size_t v = k + key.size() + 3;
    while (text[v] == ' ') ++v;
    size_t e = v;
    if (text[v] == '"') {
      e = text.find('"', v + 1);
      *end = e + 1;
      return text.substr(v + 1, e - v - 1);
    }
    while (e < text.size() && text[e] != ',' && text[e] != '\n' && text[e] != '}') ++e;
    *end = e;
    return text.substr(v, e - v);
  };
  size_t pos = 0, n = 0;
  for (;;) {
    size_t e = 0;
    const std::string seed = field(pos, "seed", &e);
    if (seed.empty()) break;
    const std::string name = field(e, "tensorName", &e);
    const std::string model = field(e, "modelIndex", &e);
    const std::string flat = field(e, "flatIndex", &e);
    const std::string u53 = field(e, "u53", &e);
    const std::string keep = field(e, "keepAtDensity0_5", &e);
    pos = e;
    const uint64_t stream = dare_stream(std::stoull(seed), dare_tensor_key(name), uint32_t(std::stoul(model)));
    const uint64_t u = dare_draw(stream, std::stoull(flat));
    CHECK_EQ(u, uint64_t(std::stoull(u53)));
    CHECK_EQ(u < dare_keep_threshold(0.5), keep == "true");
    ++n;
  }
  CHECK(n >= 10);
}
