// ties_sv lost-election margins (merge_kernels.h "Lost-election margins"): the engine's
// histograms of the favored model's candidates and of the reserved ones, per tensor, against
// the plain reference (kernel_ref.h: every element's margin, binned by comparing it with each
// edge; the brute-force global ranking for the reserve). Counts are compared exactly, for F32,
// BF16 and F16 compute, 1 and 2 threads, model and tensor scope, analyses and merges; the
// model scope's cut must be the boundary of the reserve the reference makes.
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <vector>

#include "dtype.h"
#include "kernel_ref.h"
#include "kernels/tile_ops.h"
#include "merge_kernels.h"
#include "test_main.h"
#include "thread_pool.h"
#include "topk.h"

using namespace ms;

namespace {

// Deltas with log-uniform magnitudes over 1e-11..1e2 (every bin, both ends); 3% of the
// positions have base 0 and a CT delta exactly minus the SFT's (an election tied at 0: margin 0).
ref::Tensor make_tensor(uint64_t n, DType dt, uint64_t seed, const std::string& name) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> w(0.f, 0.05f);
  std::uniform_real_distribution<double> lg(-11.0, 2.0);
  std::uniform_int_distribution<int> coin(0, 1), pct(0, 99);
  auto delta = [&] { return float((coin(rng) ? 1.0 : -1.0) * std::pow(10.0, lg(rng))); };
  ref::Tensor t;
  t.name = name;
  t.base.resize(n);
  t.models.assign(2, std::vector<float>(n));
  for (uint64_t j = 0; j < n; ++j) {
    if (pct(rng) < 3) {
      const float x = round_to(dt, delta());
      t.base[j] = 0.f;
      t.models[0][j] = x;
      t.models[1][j] = -x;
      continue;
    }
    t.base[j] = round_to(dt, w(rng));
    for (auto& m : t.models) m[j] = round_to(dt, t.base[j] + delta());
  }
  return t;
}

std::vector<const float*> ptrs(const ref::Tensor& t) {
  std::vector<const float*> v;
  for (auto& m : t.models) v.push_back(m.data());
  return v;
}

struct RefMargins {
  std::vector<uint64_t> cand = std::vector<uint64_t>(kMarginBins, 0), res = std::vector<uint64_t>(kMarginBins, 0);
};
RefMargins ref_margins(const ref::Elected& e, const std::vector<bool>& reserved) {
  RefMargins r;
  for (size_t j = 0; j < e.mk.size(); ++j) {
    if (e.mk[j] == ref::kNoCand) continue;
    const uint32_t b = ref::margin_bin(f32_from_bits(e.mk[j]));
    ++r.cand[b];
    r.res[b] += reserved[j];
  }
  return r;
}

// Model scope through the two-pass API; statistics from analyze_tensor (merge: merge_tensor).
std::map<std::string, TensorStats> run_model_scope(const std::vector<ref::Tensor>& ts, const std::vector<ModelParams>& mp,
                                                   const MergeParams& p, unsigned threads, bool merge, uint32_t* cut_key,
                                                   bool* has_cut) {
  ThreadPool pool(threads);
  SlackPlanner planner(p);
  for (const auto& t : ts) {
    auto pp = ptrs(t);
    planner.add(t.name, slack_summarize(t.base.data(), pp.data(), 2, t.base.size(), mp.data(), p, pool));
  }
  while (!planner.finish())
    for (const std::string& name : planner.tensors_to_refine())
      for (const auto& t : ts)
        if (t.name == name) {
          auto pp = ptrs(t);
          planner.add_refinement(name, slack_summarize(t.base.data(), pp.data(), 2, t.base.size(), mp.data(), p, pool,
                                                       nullptr, &planner.refine_request()));
        }
  *has_cut = planner.budget() > 0;
  *cut_key = planner.cutoff_key();
  std::map<std::string, TensorStats> out;
  for (const auto& t : ts) {
    SlackPlanForTensor plan = planner.plan_for(t.name);
    auto pp = ptrs(t);
    TensorStats& st = out[t.name];
    if (merge) {
      std::vector<float> o(t.base.size());
      merge_tensor(o.data(), &st, t.base.data(), pp.data(), 2, t.base.size(), mp.data(), p, pool, nullptr, &plan);
    } else {
      analyze_tensor(&st, t.base.data(), pp.data(), 2, t.base.size(), mp.data(), p, pool, nullptr, &plan);
    }
  }
  return out;
}

bool same_counts(const std::vector<uint64_t>& got, const std::vector<uint64_t>& want, const char* what, const std::string& where) {
  if (got == want) return true;
  for (uint32_t b = 0; b < kMarginBins && b < got.size() && b < want.size(); ++b)
    if (got[b] != want[b])
      std::fprintf(stderr, "  %s: %s bin %u: engine %llu, reference %llu\n", where.c_str(), what, b,
                   (unsigned long long)got[b], (unsigned long long)want[b]);
  if (got.size() != want.size()) std::fprintf(stderr, "  %s: %s has %zu bins\n", where.c_str(), what, got.size());
  return false;
}

}  // namespace

TEST(margin_bins_equal_the_edge_scan_on_every_16bit_margin_and_random_f32) {
  for (uint32_t e = 0; e < kMarginEdges; ++e) {
    CHECK_EQ(margin_edge(e), float(std::pow(10.0, (double(e) - 54.0) / 6.0)));
    if (e > 0) CHECK(margin_edge(e) > margin_edge(e - 1));
  }
  CHECK(std::fabs(margin_edge(0) - 1e-9f) <= 1e-15f);
  CHECK(std::fabs(margin_edge(60) - 10.f) <= 1e-6f);
  auto same = [](float x) { return margin_bin(mag_key(x)) == ref::margin_bin(std::fabs(x)); };
  int bad = 0;
  for (uint32_t h = 0; h < 65536; ++h) {  // every BF16 and F16 value: native-compute margins
    bad += !same(bf16_to_f32(uint16_t(h)));
    bad += !same(f16_to_f32(uint16_t(h)));
  }
  for (uint32_t e = 0; e < kMarginEdges; ++e) {  // each edge and its neighbours
    const float x = margin_edge(e);
    bad += !same(x) + !same(std::nextafter(x, 0.f)) + !same(std::nextafter(x, INFINITY));
  }
  std::mt19937_64 rng(5);
  for (int q = 0; q < 2000000; ++q) bad += !same(f32_from_bits(uint32_t(rng()) & 0x7fffffffu));
  CHECK_EQ(bad, 0);
  CHECK_EQ(margin_bin(mag_key(0.f)), 0u);
  CHECK_EQ(margin_bin(mag_key(-0.f)), 0u);
  CHECK_EQ(margin_bin(mag_key(1e-45f)), 1u);
  CHECK_EQ(margin_bin(mag_key(1e-9f)), 2u);
  CHECK_EQ(margin_bin(mag_key(1.f)), 2u + 54u);
  CHECK_EQ(margin_bin(mag_key(INFINITY)), kMarginBins - 1);
  CHECK_EQ(margin_bin(mag_key(NAN)), kMarginBins - 1);
}

TEST(model_scope_margins_and_cut_equal_the_reference_reserve) {
  // Sizes: several 64Ki chunks with a partial tile, one small tensor, one element.
  const std::vector<std::pair<std::string, uint64_t>> shapes = {{"model.layers.1.w", 3 * 65536 + 1037}, {"model.layers.0.w", 4099}, {"lm_head", 1}};
  std::vector<ModelParams> mp = {{1, 0.6, true}, {1, 0.9, false}};
  for (DType dt : {DType::F32, DType::BF16, DType::F16}) {
    std::vector<ref::Tensor> ts;
    uint64_t seed = 11;
    for (auto& [name, n] : shapes) ts.push_back(make_tensor(n, dt, seed++, name));
    MergeParams p;
    p.method = Method::TiesSV;
    p.compute = dt;
    for (double slack : {0.0, 0.003, 0.04, 0.3, 5.0}) {
      p.slack = slack;
      std::map<std::string, ref::Elected> el;
      const auto res = ref::model_sv_reserve(&el, ts, mp, p);
      // The reference reserve's boundary: the largest reserved key, the smallest unreserved one.
      uint64_t n_res = 0;
      uint32_t max_res = 0, min_unres = 0xffffffffu;
      for (const auto& t : ts)
        for (size_t j = 0; j < t.base.size(); ++j) {
          const uint32_t k = el[t.name].mk[j];
          if (k == ref::kNoCand) continue;
          if (res.at(t.name)[j]) { ++n_res; max_res = std::max(max_res, k); }
          else min_unres = std::min(min_unres, k);
        }
      std::map<std::string, TensorStats> by_threads[2];
      for (unsigned threads : {1u, 2u}) {
        for (bool merge : {false, true}) {
          uint32_t cut = 0;
          bool has_cut = false;
          auto sts = run_model_scope(ts, mp, p, threads, merge, &cut, &has_cut);
          uint64_t at = 0, taken = 0, reserved = 0;
          for (const auto& t : ts) {
            const TensorStats& st = sts[t.name];
            const std::string where = std::string(dtype_name(dt)) + " slack " + std::to_string(slack) + " threads " +
                                      std::to_string(threads) + (merge ? " merge " : " analysis ") + t.name;
            CHECK(st.has_margins);
            const RefMargins want = ref_margins(el[t.name], res.at(t.name));
            CHECK(same_counts(st.margin_candidates, want.cand, "candidates", where));
            CHECK(same_counts(st.margin_reserved, want.res, "reserved", where));
            at += st.margin_at_cutoff;
            taken += st.margin_taken_at_cutoff;
            for (uint64_t c : st.margin_reserved) reserved += c;
          }
          CHECK_EQ(reserved, n_res);
          CHECK_EQ(has_cut, n_res > 0);
          if (has_cut) {
            // reserved: every key < cut, and `taken` of the `at` keys == cut -- the reference's reserve
            uint64_t ref_at = 0, ref_taken = 0;
            for (const auto& t : ts)
              for (size_t j = 0; j < t.base.size(); ++j) {
                const uint32_t k = el[t.name].mk[j];
                if (k == ref::kNoCand) continue;
                if (k < cut) CHECK(res.at(t.name)[j]);
                if (k > cut) CHECK(!res.at(t.name)[j]);
                ref_at += k == cut;
                ref_taken += k == cut && res.at(t.name)[j];
              }
            CHECK_EQ(at, ref_at);
            CHECK_EQ(taken, ref_taken);
            CHECK(max_res <= cut);
            CHECK(cut <= min_unres);
          }
          if (!merge) by_threads[threads - 1] = sts;
        }
      }
      for (const auto& t : ts) {  // thread-count independent
        CHECK(by_threads[0][t.name].margin_candidates == by_threads[1][t.name].margin_candidates);
        CHECK(by_threads[0][t.name].margin_reserved == by_threads[1][t.name].margin_reserved);
      }
    }
  }
}

TEST(tensor_scope_margins_equal_the_reference_per_tensor) {
  std::vector<ModelParams> mp = {{0.7, 0.5, false}, {1, 0.3, true}};  // the favored model second, other weights
  for (DType dt : {DType::F32, DType::BF16}) {
    const ref::Tensor t = make_tensor(2 * 65536 + 77, dt, 99, "t");
    MergeParams p;
    p.method = Method::TiesSV;
    p.slack_scope = SlackScope::Tensor;
    p.compute = dt;
    for (double slack : {0.01, 0.2}) {
      p.slack = slack;
      std::map<std::string, ref::Elected> el;
      const auto res = ref::model_sv_reserve(&el, {t}, mp, p);  // one tensor: its own ranking
      const RefMargins want = ref_margins(el["t"], res.at("t"));
      for (unsigned threads : {1u, 2u}) {
        ThreadPool pool(threads);
        auto pp = ptrs(t);
        TensorStats st;
        analyze_tensor(&st, t.base.data(), pp.data(), 2, t.base.size(), mp.data(), p, pool);
        const std::string where = std::string(dtype_name(dt)) + " tensor scope threads " + std::to_string(threads);
        CHECK(st.has_margins);
        CHECK(same_counts(st.margin_candidates, want.cand, "candidates", where));
        CHECK(same_counts(st.margin_reserved, want.res, "reserved", where));
        uint64_t cand = 0, rsv = 0;
        for (uint32_t b = 0; b < kMarginBins; ++b) { cand += st.margin_candidates[b]; rsv += st.margin_reserved[b]; }
        CHECK_EQ(cand, st.sv_candidates);
        CHECK_EQ(rsv, st.sv_reserved);
      }
    }
  }
}

TEST(ties_has_no_margins) {
  const ref::Tensor t = make_tensor(5000, DType::BF16, 3, "t");
  std::vector<ModelParams> mp = {{1, 0.5, false}, {1, 1, false}};
  MergeParams p;
  p.method = Method::Ties;
  p.compute = DType::BF16;
  ThreadPool pool(1);
  auto pp = ptrs(t);
  TensorStats st;
  analyze_tensor(&st, t.base.data(), pp.data(), 2, t.base.size(), mp.data(), p, pool);
  CHECK(!st.has_margins);
  CHECK(st.margin_candidates.empty());
}
