// The series pass (EngineRequest::series) against N separate density sweeps:
// every checkpoint's grid points equal the sweep of (base, SFT, that CT) run
// alone, bit for bit (the same kernel on the same arrays), on random models in
// F32 and BF16 with many threshold ties, for 1 and 2 threads; a CT stored in
// another dtype than the others; progress over the whole series; a
// checkpoint whose tensors do not match the base fails with the sweep's own
// MODEL_* error naming that checkpoint.
#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "dtype.h"
#include "errors.h"
#include "merge_engine.h"
#include "shard_writer.h"
#include "test_main.h"
#include "test_util.h"

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/ms_series_test_XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::error_code ec; std::filesystem::remove_all(path, ec); }
  std::string sub(const std::string& name) const {
    const std::string p = path + "/" + name;
    std::filesystem::create_directories(p);
    return p;
  }
};

struct Spec {
  std::string name;
  std::vector<uint64_t> shape;
};

const std::vector<Spec> kSpecs = {
    {"model.embed_tokens.weight", {300, 512}},   // several 64Ki chunks
    {"model.layers.0.mlp.down_proj.weight", {96, 200}},
    {"model.layers.0.self_attn.q_proj.weight", {128, 128}},
    {"model.layers.1.mlp.down_proj.weight", {96, 200}},
    {"model.norm.weight", {128}},
};

// Variant 0 is the base; others add deltas quantized to a few hundred magnitudes (many
// threshold ties at every cut), growing with the variant like a CT series.
void write_model(const std::string& dir, const std::vector<Spec>& specs, int variant, ms::StDtype st) {
  std::vector<ms::OutTensorSpec> out;
  for (const Spec& s : specs) out.push_back({s.name, st, s.shape});
  ms::ShardWriter w(dir, out, 1u << 20, {{"format", "pt"}});
  for (size_t t = 0; t < specs.size(); ++t) {
    uint64_t n = 1;
    for (uint64_t d : specs[t].shape) n *= d;
    std::mt19937_64 base_rng(100 + t), delta_rng(1000 * uint64_t(variant) + t);
    std::normal_distribution<float> w0(0.f, 0.02f);
    std::uniform_int_distribution<int> level(1, 300 + 40 * variant), coin(0, 1), zero(0, 9);
    std::vector<float> x(n);
    for (uint64_t i = 0; i < n; ++i) {
      x[i] = w0(base_rng);
      const float delta = float(level(delta_rng)) * (coin(delta_rng) ? 1e-5f : -1e-5f);
      if (variant > 0 && zero(delta_rng) != 0) x[i] += delta;
    }
    const ms::DType dt = st == ms::StDtype::F32 ? ms::DType::F32 : st == ms::StDtype::F16 ? ms::DType::F16 : ms::DType::BF16;
    std::vector<uint8_t> bytes(n * ms::dtype_size(dt));
    ms::narrow(bytes.data(), x.data(), dt, n);
    w.write_tensor(bytes.data(), bytes.size());
  }
  w.finish();
}

// Every field of a tensor's statistics, doubles as exact hex: equal strings = equal bits.
std::string dump(const ms::EngineTensorReport& r) {
  char buf[256];
  std::string s = r.name + (r.row_cut ? " cut" : "") + " dt" + std::to_string(int(r.out_dtype));
  const ms::TensorStats& t = r.stats;
  std::snprintf(buf, sizeof buf, " n%llu c%llu nc%llu mn%llu g%d p%d dot%a bn%llu sa%llu m%d i%llu u%llu",
                (unsigned long long)t.numel, (unsigned long long)t.sign_conflicts,
                (unsigned long long)t.n_positions_no_contributor, (unsigned long long)t.n_majority_negative,
                int(t.has_geometry), int(t.has_pair), t.tv_dot, (unsigned long long)t.n_both_nonzero,
                (unsigned long long)t.n_signs_agree, int(t.has_mask_overlap), (unsigned long long)t.mask_intersection,
                (unsigned long long)t.mask_union);
  s += buf;
  for (const ms::ModelTensorStats& m : t.models) {
    std::snprintf(buf, sizeof buf, " | w%a d%a t%d k%llu tv%d th%a g%llu e%llu ka%llu nz%llu ds%llu l1%a co%llu ic%llu cw%llu sq%a",
                  m.weight, m.density, int(m.trimmed), (unsigned long long)m.k, int(m.threshold_valid), double(m.threshold),
                  (unsigned long long)m.n_greater_than_threshold, (unsigned long long)m.n_equal_to_threshold,
                  (unsigned long long)m.n_kept_at_threshold, (unsigned long long)m.nnz_trimmed,
                  (unsigned long long)m.n_discarded_by_sign_election, m.l1_discarded_by_sign_election,
                  (unsigned long long)m.n_contributing, (unsigned long long)m.in_conflict,
                  (unsigned long long)m.conflicts_won, m.tv_sum_sq);
    s += buf;
  }
  return s;
}

const std::vector<double> kGrid = {0.01, 0.2, 0.4, 0.6, 0.8, 1.0};

ms::EngineRequest ties_request(const std::string& base, const std::vector<std::string>& models, unsigned threads,
                               ms::ComputeMode compute) {
  ms::EngineRequest req;
  req.params.method = ms::Method::Ties;
  req.params.normalize = true;
  req.compute = compute;
  req.base_path = base;
  for (const std::string& m : models) {
    ms::EngineModel em;
    em.path = m;
    em.params.weight = 1;
    em.params.density = 1;
    req.models.push_back(em);
  }
  req.threads = threads;
  req.densities = kGrid;
  return req;
}

// Series result vs one sweep per checkpoint: every point, every tensor, every bit.
void check_series_equals_sweeps(const std::string& base, const std::string& sft, const std::vector<std::string>& cts,
                                unsigned threads, ms::ComputeMode compute, uint64_t* compared) {
  std::vector<std::string> models = {sft};
  models.insert(models.end(), cts.begin(), cts.end());
  ms::EngineRequest sreq = ties_request(base, models, threads, compute);
  sreq.series = true;
  uint64_t last_done = 0, total = 0, calls = 0, last_bytes = 0, bytes_total = 0;
  const ms::EngineResult series = ms::run_engine(
      sreq,
      [&](const ms::EngineProgress& p) {
        CHECK(p.tensors_done >= last_done);
        last_done = p.tensors_done;
        total = p.tensors_total;
        last_bytes = p.bytes_done;
        bytes_total = p.bytes_total;
        ++calls;
      },
      nullptr);
  CHECK(series.has_series);
  CHECK(!series.has_sweep);
  CHECK_EQ(series.series.size(), cts.size());
  CHECK_EQ(total, uint64_t(kSpecs.size() * cts.size()));  // one step per (tensor, checkpoint)
  CHECK_EQ(last_done, total);
  CHECK_EQ(last_bytes, bytes_total);
  CHECK_EQ(series.bytes_read, bytes_total);
  CHECK(calls >= total);
  uint64_t sweeps_bytes = 0;
  for (size_t c = 0; c < cts.size(); ++c) {
    ms::EngineRequest req = ties_request(base, {sft, cts[c]}, threads, compute);
    req.sweep = true;
    const ms::EngineResult sweep = ms::run_engine(req, nullptr, nullptr);
    sweeps_bytes += sweep.bytes_read;
    const ms::EngineSeriesCheckpoint& got = series.series[c];
    CHECK(got.warnings == sweep.warnings);
    CHECK_EQ(got.sweep.size(), sweep.sweep.size());
    for (size_t q = 0; q < std::min(got.sweep.size(), sweep.sweep.size()); ++q) {
      CHECK(got.sweep[q].densities == sweep.sweep[q].densities);
      CHECK_EQ(got.sweep[q].tensors.size(), sweep.sweep[q].tensors.size());
      for (size_t t = 0; t < std::min(got.sweep[q].tensors.size(), sweep.sweep[q].tensors.size()); ++t) {
        const std::string a = dump(got.sweep[q].tensors[t]), b = dump(sweep.sweep[q].tensors[t]);
        if (a != b) {
          std::fprintf(stderr, "  checkpoint %zu point %zu:\n    series %s\n    sweep  %s\n", c, q, a.c_str(), b.c_str());
          CHECK(a == b);
          return;
        }
        ++*compared;
      }
    }
  }
  // N + 2 model reads instead of 3N (when every checkpoint shares one unit per tensor).
  CHECK(series.bytes_read < sweeps_bytes);
}

struct Family {
  TempDir dir;
  std::string base, sft;
  std::vector<std::string> cts;
  explicit Family(ms::StDtype st, int n_ct = 3) {
    base = dir.sub("base");
    write_model(base, kSpecs, 0, st);
    sft = dir.sub("sft");
    write_model(sft, kSpecs, 1, st);
    for (int c = 0; c < n_ct; ++c) {
      cts.push_back(dir.sub("ct-" + std::to_string(c)));
      write_model(cts.back(), kSpecs, 2 + c, st);
    }
  }
};

}  // namespace

TEST(series_equals_separate_sweeps_bf16) {
  Family f(ms::StDtype::BF16);
  for (unsigned threads : {1u, 2u}) {
    uint64_t compared = 0;
    check_series_equals_sweeps(f.base, f.sft, f.cts, threads, ms::ComputeMode::Storage, &compared);
    CHECK_EQ(compared, uint64_t(3 * 36 * kSpecs.size()));
    compared = 0;
    check_series_equals_sweeps(f.base, f.sft, f.cts, threads, ms::ComputeMode::F32, &compared);
    CHECK_EQ(compared, uint64_t(3 * 36 * kSpecs.size()));
  }
}

TEST(series_equals_separate_sweeps_f32) {
  Family f(ms::StDtype::F32);
  for (unsigned threads : {1u, 2u}) {
    uint64_t compared = 0;
    check_series_equals_sweeps(f.base, f.sft, f.cts, threads, ms::ComputeMode::Storage, &compared);
    CHECK_EQ(compared, uint64_t(3 * 36 * kSpecs.size()));
  }
}

TEST(series_results_do_not_depend_on_threads) {
  Family f(ms::StDtype::BF16, 2);
  std::string first;
  for (unsigned threads : {1u, 2u, 3u}) {
    ms::EngineRequest req = ties_request(f.base, {f.sft, f.cts[0], f.cts[1]}, threads, ms::ComputeMode::Storage);
    req.series = true;
    const ms::EngineResult r = ms::run_engine(req, nullptr, nullptr);
    std::string all;
    for (const auto& c : r.series)
      for (const auto& p : c.sweep)
        for (const auto& t : p.tensors) all += dump(t) + "\n";
    if (first.empty()) first = all;
    CHECK(all == first);
  }
}

// A CT stored in F32 among BF16 ones: in storage mode its pairs compute in F32, the others in
// BF16 -- the base and SFT are loaded once per compute dtype, and every checkpoint still equals its sweep.
TEST(series_mixed_storage_dtypes_equal_sweeps) {
  TempDir dir;
  const std::string base = dir.sub("base"), sft = dir.sub("sft"), ct_a = dir.sub("ct-a"), ct_b = dir.sub("ct-b"),
                    ct_c = dir.sub("ct-c");
  write_model(base, kSpecs, 0, ms::StDtype::BF16);
  write_model(sft, kSpecs, 1, ms::StDtype::BF16);
  write_model(ct_a, kSpecs, 2, ms::StDtype::BF16);
  write_model(ct_b, kSpecs, 3, ms::StDtype::F32);
  write_model(ct_c, kSpecs, 4, ms::StDtype::BF16);
  uint64_t compared = 0;
  check_series_equals_sweeps(base, sft, {ct_a, ct_b, ct_c}, 2, ms::ComputeMode::Storage, &compared);
  CHECK_EQ(compared, uint64_t(3 * 36 * kSpecs.size()));
}

TEST(series_mismatched_checkpoint_names_it) {
  Family f(ms::StDtype::BF16, 2);
  // A third checkpoint with one tensor of another shape, one with an extra tensor, one missing a tensor.
  TempDir dir;
  std::vector<Spec> wrong_shape = kSpecs;
  wrong_shape[2].shape = {128, 64};
  const std::string bad_shape = dir.sub("ct-bad-shape");
  write_model(bad_shape, wrong_shape, 5, ms::StDtype::BF16);
  std::vector<Spec> extra = kSpecs;
  extra.push_back({"model.layers.9.extra.weight", {4}});
  const std::string bad_extra = dir.sub("ct-bad-extra");
  write_model(bad_extra, extra, 5, ms::StDtype::BF16);
  std::vector<Spec> missing(kSpecs.begin(), kSpecs.end() - 1);
  const std::string bad_missing = dir.sub("ct-bad-missing");
  write_model(bad_missing, missing, 5, ms::StDtype::BF16);

  auto series = [&](const std::string& bad) {
    ms::EngineRequest req = ties_request(f.base, {f.sft, f.cts[0], bad, f.cts[1]}, 2, ms::ComputeMode::Storage);
    req.series = true;
    return req;
  };
  auto sweep = [&](const std::string& bad) {
    ms::EngineRequest req = ties_request(f.base, {f.sft, bad}, 2, ms::ComputeMode::Storage);
    req.sweep = true;
    return req;
  };
  EXPECT_ERR(ms::run_engine(series(bad_shape), nullptr, nullptr), MODEL_SHAPE_MISMATCH, bad_shape, "q_proj");
  EXPECT_ERR(ms::run_engine(series(bad_extra), nullptr, nullptr), MODEL_TENSOR_EXTRA, bad_extra, "extra.weight");
  EXPECT_ERR(ms::run_engine(series(bad_missing), nullptr, nullptr), MODEL_TENSOR_MISSING, bad_missing, "model.norm.weight");
  // The same errors as that checkpoint's own sweep.
  for (const std::string& bad : {bad_shape, bad_extra, bad_missing}) {
    std::string a, b;
    try { ms::run_engine(series(bad), nullptr, nullptr); } catch (const ms::MergeError& e) { a = e.what(); }
    try { ms::run_engine(sweep(bad), nullptr, nullptr); } catch (const ms::MergeError& e) { b = e.what(); }
    CHECK(!a.empty());
    CHECK(a == b);
  }
}

TEST(series_cancel_and_bad_requests) {
  Family f(ms::StDtype::BF16, 2);
  ms::EngineRequest req = ties_request(f.base, {f.sft, f.cts[0], f.cts[1]}, 2, ms::ComputeMode::Storage);
  req.series = true;
  std::atomic<bool> cancel{false};
  EXPECT_ERR(ms::run_engine(req, [&](const ms::EngineProgress& p) { if (p.tensors_done == 3) cancel = true; }, &cancel),
             CANCELLED, "cancelled");
  ms::EngineRequest one = req;
  one.models.resize(1);
  EXPECT_ERR(ms::run_engine(one, nullptr, nullptr), RECIPE_INVALID, "series pass", "CT checkpoint");
  ms::EngineRequest sv = req;
  sv.params.method = ms::Method::TiesSV;
  EXPECT_ERR(ms::run_engine(sv, nullptr, nullptr), RECIPE_INVALID, "series pass", "ties");
  ms::EngineRequest nodens = req;
  nodens.densities.clear();
  EXPECT_ERR(ms::run_engine(nodens, nullptr, nullptr), RECIPE_INVALID, "series pass", "densities");
  ms::EngineRequest out = req;
  out.out_dir = f.dir.sub("out");
  EXPECT_ERR(ms::run_engine(out, nullptr, nullptr), RECIPE_INVALID, "series pass", "statistics only");
}
