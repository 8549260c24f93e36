// mergekit's random streams (kernels/mt19937.h, random_trim.h):
// - the generator against libstdc++'s std::mt19937 (an independent
//   implementation of the same standard engine) and the standard's check
//   value, seeds reduced like torch.manual_seed (S & 0xffffffff);
// - the integer keep test against torch's float test, (o & 0xFFFFFF) * 2^-24 < p;
// - DARE with the mergekit stream against a reference built from
//   std::mt19937 draws and the literal float test (no golden DARE case exists:
//   this and the DELLA golden keep masks, drawn by the same generator and
//   protocol, are the evidence), for any thread count;
// - the engine draws one stream across tensors in name order: the
//   cli_della_seeded_bf16 golden case (mergekit-yaml --random-seed 42, 39
//   tensors) byte for byte, in both compute modes.
#include <stdlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "dtype.h"
#include "golden_util.h"
#include "kernel_ref.h"
#include "kernels/mt19937.h"
#include "kernels/torch_sum.h"
#include "merge_engine.h"
#include "merge_kernels.h"
#include "model_source.h"
#include "test_main.h"
#include "thread_pool.h"

using namespace ms;

TEST(mt19937_matches_std_mt19937_and_the_standard_check_value) {
  kern::Mt19937 a(5489);
  std::mt19937 b(5489u);
  const uint32_t first[5] = {3499211612u, 581869302u, 3890346734u, 3586334585u, 545404204u};
  for (uint32_t v : first) CHECK_EQ(a.next(), v);
  for (int i = 0; i < 5; ++i) b();
  for (int i = 5; i < 9999; ++i) CHECK(a.next() == b());
  CHECK_EQ(a.next(), 4123659995u);  // the 10000th output (C++ standard, [rand.predef])
  CHECK_EQ(a.drawn(), uint64_t(10000));
  for (uint64_t seed : {uint64_t(0), uint64_t(42), uint64_t(7), uint64_t(0xffffffffu), (uint64_t(1) << 40) + 3}) {
    kern::Mt19937 g(seed);
    std::mt19937 r(uint32_t(seed & 0xffffffffu));  // torch.manual_seed: init_genrand(S & 0xffffffff)
    std::vector<uint32_t> block(3000);
    g.fill(block.data(), 17);    // fill and next interleave without losing a draw
    block[17] = g.next();
    g.fill(block.data() + 18, 2982);
    bool same = true;
    for (uint32_t v : block) same &= v == r();
    CHECK(same);
    CHECK_EQ(g.drawn(), uint64_t(3000));
  }
}

TEST(keep_limit_equals_torchs_float_test) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int trial = 0; trial < 20000; ++trial) {
    float p = trial < 10 ? float(trial) / 9.f : u(rng);
    if (trial % 7 == 0) p = round_to(DType::BF16, p);
    const uint32_t lim = kern::keep_limit(p);
    for (int64_t m = int64_t(lim) - 3; m <= int64_t(lim) + 3; ++m) {
      if (m < 0 || m > 0xffffff) continue;
      const float x = float(uint32_t(m)) * (1.0f / 16777216.0f);  // torch: (o & MASK) * DIVISOR
      CHECK((x < p) == kern::mt_keeps(uint32_t(m), lim));
    }
  }
  CHECK_EQ(kern::keep_limit(0.f), 0u);
  CHECK_EQ(kern::keep_limit(1.f), 1u << 24);
}

TEST(torch_sum_small_inputs_follow_the_scalar_path) {
  // Below one vector (8 floats / 16 bf16) torch sums 4 interleaved partials:
  // ((x0 + x4) + (x1 + x5)...) -- here with values whose order matters.
  const std::vector<float> v = {1e8f, 1.f, -1e8f, 1.f, 3.f};
  const float got = kern::torch_sum(v.size(), false, [&](uint64_t j) { return v[j]; });
  // size_ilp = 1 row of 4 + leftover v[4] into partial 0: p = {1e8 + 3, 1, -1e8, 1} -> ((p0 + p1) + p2) + p3
  const float p0 = 1e8f + 3.f;
  CHECK_EQ(got, ((p0 + 1.f) + -1e8f) + 1.f);
}

namespace {

// DARE with the mergekit stream, built from std::mt19937 and torch's float test.
ref::Elected dare_stream_reference(const ref::Tensor& t, const std::vector<ModelParams>& mp, const MergeParams& p) {
  const size_t M = t.models.size(), n = t.base.size();
  const DType W = p.compute == DType::BF16 ? DType::BF16 : DType::F32;
  std::mt19937 mt(uint32_t(p.seed & 0xffffffffu));
  ref::Elected e;
  e.dt.assign(M, std::vector<float>(n, 0.f));
  e.trim.resize(M);
  for (size_t i = 0; i < M; ++i) {
    std::vector<float> d(n);
    for (size_t j = 0; j < n; ++j) d[j] = ref::R(p.compute, t.models[i][j] - t.base[j]);
    if (mp[i].density >= 1) {
      e.dt[i] = d;
      e.trim[i].k = n;
      continue;
    }
    const float pk = round_to(W, float(mp[i].density));
    std::vector<uint8_t> keep(n);
    uint64_t kept = 0;
    for (size_t j = 0; j < n; ++j) {
      const float x = float(mt() & 0xFFFFFFu) * (1.0f / 16777216.0f);
      keep[j] = x < pk;
      kept += keep[j];
    }
    const float before = kern::torch_sum(n, W == DType::BF16, [&](uint64_t j) { return std::fabs(d[j]); });
    const float after = kern::torch_sum(n, W == DType::BF16, [&](uint64_t j) { return keep[j] ? std::fabs(d[j]) : 0.f; });
    const float sb = round_to(W, before), sa = round_to(W, after);
    const bool scale = p.rescale && sb >= round_to(W, 1e-7f) && sa >= round_to(W, 1e-7f);
    const float ratio = scale ? round_to(W, sb / sa) : 1.f;
    for (size_t j = 0; j < n; ++j) e.dt[i][j] = keep[j] ? (scale ? ref::R(p.compute, d[j] * ratio) : d[j]) : 0.f;
    e.trim[i].trimmed = true;
    e.trim[i].k = kept;
    e.trim[i].rescaled = scale;
    e.trim[i].rescale_factor = ratio;
  }
  return ref::weigh_and_elect(t, std::move(e), mp, p);
}

}  // namespace

TEST(dare_mergekit_stream_matches_an_independent_reference) {
  std::mt19937_64 rng(21);
  std::normal_distribution<float> w(0.f, 0.02f);
  int runs = 0;
  for (DType dt : {DType::F32, DType::BF16, DType::F16})
    for (uint64_t n : {uint64_t(5), uint64_t(40), uint64_t(3072), uint64_t(70000)}) {
      ref::Tensor t;
      t.name = "layers.0.mlp.down_proj.weight";
      t.base.resize(n);
      for (float& x : t.base) x = round_to(dt, w(rng));
      t.models.assign(3, std::vector<float>(n));
      for (auto& m : t.models)
        for (uint64_t j = 0; j < n; ++j) m[j] = round_to(dt, t.base[j] + w(rng) * 0.1f);
      const std::vector<ModelParams> mp = {{1.0, 0.3, false}, {0.6, 1.0, false}, {0.5, 0.7, false}};
      for (bool rescale : {true, false}) {
        MergeParams p;
        p.method = Method::DareTies;
        p.normalize = false;
        p.compute = dt;
        p.rescale = rescale;
        p.random = RandomStream::Mergekit;
        p.seed = 42 + n;
        std::vector<float> want;
        TensorStats wst;
        ref::Elected e = dare_stream_reference(t, mp, p);
        ref::mix(&want, &wst, t, e, mp, p, {});
        std::vector<const float*> ptr;
        for (auto& m : t.models) ptr.push_back(m.data());
        for (unsigned th : {1u, 2u, 3u}) {
          ThreadPool pool(th);
          std::vector<float> got(n);
          TensorStats st;
          merge_tensor(got.data(), &st, t.base.data(), ptr.data(), 3, n, mp.data(), p, pool);
          bool same = true;
          for (uint64_t j = 0; j < n; ++j) same &= f32_bits(got[j]) == f32_bits(want[j]);
          CHECK(same);
          CHECK_EQ(st.models[0].k, wst.models[0].k);
          CHECK_EQ(st.models[2].k, wst.models[2].k);
          CHECK(st.models[0].rescaled == wst.models[0].rescaled);
          CHECK_EQ(st.models[0].rescale_factor, wst.models[0].rescale_factor);
          CHECK(st.models[0].has_random_draws && !st.models[1].has_random_draws);
          CHECK_EQ(st.models[0].random_first_draw, uint64_t(0));
          CHECK_EQ(st.models[2].random_first_draw, n);  // the density-1 model draws nothing
          CHECK_EQ(st.n_positions_no_contributor, wst.n_positions_no_contributor);
          CHECK_EQ(st.sign_conflicts, wst.sign_conflicts);
          ++runs;
        }
      }
    }
  CHECK(runs == 72);
}

namespace {

const std::string kCli = "../../test/fixtures/golden/cli_della_seeded_bf16";

struct Tmp {
  std::string path;
  Tmp() {
    char tmpl[] = "/tmp/ms_stream_test_XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~Tmp() { std::error_code ec; std::filesystem::remove_all(path, ec); }
};

EngineRequest cli_della_request(bool f32, const std::string& out) {
  EngineRequest req;
  req.params.method = Method::Della;
  req.params.normalize = true;
  req.params.rescale = true;
  req.params.seed = 42;  // mergekit-yaml --random-seed 42
  req.compute = f32 ? ComputeMode::F32 : ComputeMode::Storage;
  req.has_out_dtype = f32;
  req.out_dtype = DType::BF16;
  req.base_path = kCli + "/models/base";
  EngineModel sft{kCli + "/models/sft", {}}, ct{kCli + "/models/ct", {}};
  sft.params.weight = 1.0;
  sft.params.density = 0.5;
  sft.params.epsilon = 0.1;
  ct.params.weight = 0.8;
  ct.params.density = 0.4;
  req.models = {sft, ct};
  req.out_dir = out;
  return req;
}

}  // namespace

TEST(engine_draws_one_stream_across_tensors_cli_della_case) {
  for (bool f32 : {true, false})
    for (unsigned threads : {1u, 2u}) {
      Tmp tmp;
      EngineRequest req = cli_della_request(f32, tmp.path);
      req.threads = threads;
      const EngineResult res = run_engine(req, nullptr, nullptr);
      const auto want = golden::load_safetensors(kCli + (f32 ? "/expected.safetensors" : "/expected_native.safetensors"));
      const ModelSource out = ModelSource::open(tmp.path);
      CHECK_EQ(out.tensors().size(), want.size());
      uint64_t differ = 0, draws = 0;
      for (const auto& t : out.tensors()) {
        std::vector<uint16_t> got(t.info.numel);
        out.read(got.data(), t);
        const golden::StTensor& w = want.at(t.name);
        for (uint64_t j = 0; j < t.info.numel; ++j) differ += f32_bits(bf16_to_f32(got[j])) != f32_bits(w.f[j]);
      }
      CHECK_EQ(differ, uint64_t(0));
      // the stream runs through the tensors in name order, sft then ct in each
      for (const EngineTensorReport& t : res.tensors) {
        CHECK_EQ(t.stats.models[0].random_first_draw, draws);
        CHECK_EQ(t.stats.models[1].random_first_draw, draws + t.stats.numel);
        draws += 2 * t.stats.numel;
      }
    }
}
