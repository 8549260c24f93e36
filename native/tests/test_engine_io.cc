// Tests of the whole-model engine's I/O path: streamed widening, the
// pipelined loader / writer (results equal per-tensor kernel calls on fresh
// arrays, for any thread count and shard split), error and cancel propagation
// from the writer thread.
#include <stdlib.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <string>
#include <vector>

#include "dtype.h"
#include "errors.h"
#include "merge_engine.h"
#include "model_source.h"
#include "sha256.h"
#include "shard_writer.h"
#include "test_main.h"
#include "test_util.h"

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/ms_engine_test_XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::error_code ec; std::filesystem::remove_all(path, ec); }
  std::string sub(const std::string& name) const {
    const std::string p = path + "/" + name;
    std::filesystem::create_directories(p);
    return p;
  }
};

std::string read_all(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

uint32_t g_rng = 12345;
uint32_t rnd() { g_rng ^= g_rng << 13; g_rng ^= g_rng >> 17; g_rng ^= g_rng << 5; return g_rng; }

struct Spec {
  std::string name;
  std::vector<uint64_t> shape;
};

// Writes a bf16 model: base values plus, for variant v > 0, small deltas.
void write_model(const std::string& dir, const std::vector<Spec>& specs, int v) {
  std::vector<ms::OutTensorSpec> out;
  for (const Spec& s : specs) out.push_back({s.name, ms::StDtype::BF16, s.shape});
  ms::ShardWriter w(dir, out, 3u << 20, {{"format", "pt"}});  // several shards
  for (size_t t = 0; t < specs.size(); ++t) {
    uint64_t n = 1;
    for (uint64_t d : specs[t].shape) n *= d;
    std::vector<uint16_t> h(n);
    g_rng = uint32_t(1000 + t);  // the same base values in every variant
    for (uint64_t i = 0; i < n; ++i) {
      float x = float(int32_t(rnd() % 20001) - 10000) / 10000.f;
      if (v > 0) {
        const uint32_t r = rnd() ^ uint32_t(v * 7919 + i * 31);
        x += float(int32_t(r % 2001) - 1000) / 1e5f * float(v);
      }
      h[i] = ms::f32_to_bf16(x);
    }
    w.write_tensor(h.data(), n * 2);
  }
  w.finish();
}

// Reference: each tensor through merge_tensor on freshly widened arrays.
std::vector<std::vector<uint16_t>> reference(const ms::EngineRequest& req) {
  ms::ModelSource base = ms::ModelSource::open(req.base_path);
  std::vector<ms::ModelSource> models;
  std::vector<ms::ModelParams> mp;
  for (const auto& m : req.models) {
    models.push_back(ms::ModelSource::open(m.path));
    mp.push_back(m.params);
  }
  ms::ThreadPool pool(1);
  std::vector<std::vector<uint16_t>> out;
  auto load = [](const ms::ModelSource& s, const std::string& name) {
    const ms::ModelTensor* t = s.find(name);
    std::vector<uint8_t> raw(t->info.nbytes());
    s.read(raw.data(), *t);
    std::vector<float> f(t->info.numel);
    ms::widen(f.data(), raw.data(), ms::DType::BF16, t->info.numel);
    return f;
  };
  for (const ms::ModelTensor& bt : base.tensors()) {
    const uint64_t n = bt.info.numel;
    std::vector<float> b = load(base, bt.name);
    std::vector<std::vector<float>> xs;
    std::vector<const float*> ptrs;
    for (const auto& m : models) xs.push_back(load(m, bt.name));
    for (const auto& x : xs) ptrs.push_back(x.data());
    ms::MergeParams p = req.params;
    p.compute = ms::DType::BF16;
    std::vector<float> o(n);
    ms::merge_tensor(o.data(), nullptr, b.data(), ptrs.data(), uint32_t(ptrs.size()), n, mp.data(), p, pool);
    std::vector<uint16_t> h(n);
    ms::narrow(h.data(), o.data(), ms::DType::BF16, n);
    out.push_back(std::move(h));
  }
  return out;
}

const std::vector<Spec> kSpecs = {
    {"lm_head.weight", {1100, 1024}},            // > one 1 MiB read / write piece, several 64Ki chunks
    {"model.embed_tokens.weight", {1100, 1024}},
    {"model.layers.0.mlp.weight", {700, 333}},
    {"model.layers.0.norm.weight", {333}},
    {"model.layers.1.empty", {0, 4}},
    {"model.norm.weight", {1}},
};

ms::EngineRequest make_request(const TempDir& d, ms::Method method) {
  ms::EngineRequest r;
  r.params.method = method;
  r.params.slack = method == ms::Method::TiesSV ? 0.05 : 0;
  r.base_path = d.path + "/base";
  ms::EngineModel a, b;
  a.path = d.path + "/sft";
  a.params.density = 0.2;
  a.params.favored = true;
  b.path = d.path + "/ct";
  b.params.density = 1;
  r.models = {a, b};
  return r;
}

void make_family(const TempDir& d) {
  write_model(d.sub("base"), kSpecs, 0);
  write_model(d.sub("sft"), kSpecs, 1);
  write_model(d.sub("ct"), kSpecs, 2);
}

}  // namespace

TEST(widen_stream_equals_widen) {
  std::vector<uint16_t> all(65536 + 100);
  for (size_t i = 0; i < all.size(); ++i) all[i] = uint16_t(i * 40503u);
  for (uint32_t v = 0; v < 65536; ++v) all[v] = uint16_t(v);
  std::vector<float> a(all.size() + 64), b(all.size() + 64);
  for (const uint64_t off : {0, 1, 3, 7, 15, 16, 17}) {
    for (const uint64_t n : {uint64_t(0), uint64_t(1), uint64_t(15), uint64_t(33), uint64_t(all.size())}) {
      std::fill(a.begin(), a.end(), -1.f);
      std::fill(b.begin(), b.end(), -1.f);
      ms::widen(a.data() + off, all.data(), ms::DType::BF16, n);
      ms::widen_stream(b.data() + off, all.data(), ms::DType::BF16, n);
      CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
      ms::widen(a.data() + off, all.data(), ms::DType::F16, n);
      ms::widen_stream(b.data() + off, all.data(), ms::DType::F16, n);
      CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
    }
  }
}

TEST(engine_output_equals_per_tensor_kernels_any_threads) {
  TempDir d;
  make_family(d);
  for (const ms::Method method : {ms::Method::Ties, ms::Method::TiesSV}) {
    ms::EngineRequest req = make_request(d, method);
    std::vector<std::vector<uint16_t>> ref;
    if (method == ms::Method::Ties) ref = reference(req);
    std::vector<std::string> shas;
    for (const unsigned threads : {1u, 2u, 3u}) {
      req.threads = threads;
      req.shard_size = threads == 3 ? (1u << 20) : 5000000000ull;  // one shard / several
      req.out_dir = d.sub("out-" + std::to_string(int(method)) + "-" + std::to_string(threads));
      const ms::EngineResult res = ms::run_engine(req, nullptr, nullptr);
      CHECK_EQ(res.tensors.size(), kSpecs.size());
      ms::ModelSource out = ms::ModelSource::open(req.out_dir);
      std::string all;
      for (size_t t = 0; t < out.tensors().size(); ++t) {
        const ms::ModelTensor& mt = out.tensors()[t];
        std::vector<uint16_t> h(mt.info.numel);
        out.read(h.data(), mt);
        if (!ref.empty()) CHECK(h == ref[t]);
        all.append(reinterpret_cast<const char*>(h.data()), h.size() * 2);
      }
      shas.push_back(ms::sha256_hex(all.data(), all.size()));
      for (const ms::ShardFile& s : res.shards) {
        const std::string bytes = read_all(req.out_dir + "/" + s.filename);
        CHECK(s.sha256 == ms::sha256_hex(bytes.data(), bytes.size()));
        CHECK_EQ(s.bytes, uint64_t(bytes.size()));
      }
    }
    CHECK(shas[0] == shas[1] && shas[1] == shas[2]);
  }
}

TEST(engine_writer_errors_and_cancel_propagate) {
  TempDir d;
  make_family(d);
  ms::EngineRequest req = make_request(d, ms::Method::Ties);
  // The output file exists: the writer thread's OUT_EXISTS reaches the caller unchanged.
  req.out_dir = d.sub("exists");
  { std::ofstream(req.out_dir + "/model.safetensors") << "old"; }
  EXPECT_ERR(ms::run_engine(req, nullptr, nullptr), OUT_EXISTS, req.out_dir + "/model.safetensors");
  CHECK(read_all(req.out_dir + "/model.safetensors") == "old");
  // Cancel after the second tensor: CANCELLED, whatever the writer is doing.
  for (const char* dir : {"cancel", ""}) {
    req.out_dir = *dir ? d.sub(dir) : std::string();
    std::atomic<bool> cancel{false};
    EXPECT_ERR(ms::run_engine(req, [&](const ms::EngineProgress& p) { if (p.tensors_done == 2) cancel = true; }, &cancel),
               CANCELLED, "cancelled");
  }
}

// Inputs load on several threads when the engine has several: a read error is
// still the first failing input in input order (base, then the models), as
// with one loader. Both models' shard of the third tensor (one shard per
// tensor for the first three) is truncated once the first tensor is merged:
// the second is loading then, from another shard, the third not yet.
TEST(engine_load_error_is_the_first_failing_input_any_threads) {
  TempDir d;
  const std::vector<Spec> specs = {{"a.weight", {1100, 1024}}, {"b.weight", {1100, 1024}},
                                   {"c.weight", {1100, 1024}}, {"d.weight", {700, 333}}};
  for (int v = 0; v < 3; ++v) write_model(d.sub(v == 0 ? "base" : v == 1 ? "sft" : "ct"), specs, v);
  ms::EngineRequest req = make_request(d, ms::Method::Ties);
  auto shard_of = [&](const std::string& model) {
    ms::ModelSource src = ms::ModelSource::open(model);
    const uint32_t third = src.find("c.weight")->shard;
    CHECK(src.find("a.weight")->shard != third && src.find("b.weight")->shard != third);
    return src.shard_paths()[third];
  };
  const std::string sft_shard = shard_of(req.models[0].path), ct_shard = shard_of(req.models[1].path);
  const std::string sft_copy = read_all(sft_shard), ct_copy = read_all(ct_shard);
  for (const unsigned threads : {1u, 2u, 3u}) {
    std::ofstream(sft_shard, std::ios::binary) << sft_copy;
    std::ofstream(ct_shard, std::ios::binary) << ct_copy;
    req.threads = threads;
    auto truncate = [&](const ms::EngineProgress& p) {
      if (p.tensors_done != 1) return;
      std::filesystem::resize_file(sft_shard, 64);
      std::filesystem::resize_file(ct_shard, 64);
    };
    EXPECT_ERR(ms::run_engine(req, truncate, nullptr), ST_IO, sft_shard, "c.weight", "truncated");
  }
}

namespace {

// Output tensor `name` of a finished merge, as bf16 bits.
std::vector<uint16_t> read_out(const std::string& dir, const std::string& name) {
  ms::ModelSource out = ms::ModelSource::open(dir);
  const ms::ModelTensor* t = out.find(name);
  if (!t) return {};
  std::vector<uint16_t> h(t->info.numel);
  out.read(h.data(), *t);
  return h;
}

// The plan the engine builds itself by name matching, written out explicitly.
ms::EnginePlan identity_plan(const ms::EngineRequest& req) {
  ms::EnginePlan plan;
  plan.sources = {req.base_path};
  for (const auto& m : req.models) plan.sources.push_back(m.path);
  for (const Spec& s : kSpecs) {
    ms::PlannedTensor t;
    t.name = s.name;
    t.has_base = true;
    t.base = {0, s.name};
    for (uint32_t i = 0; i < req.models.size(); ++i) {
      t.models.push_back({i + 1, s.name});
      t.params.push_back(req.models[i].params);
    }
    t.lambda = req.params.lambda;
    t.t = req.params.t;
    plan.tensors.push_back(t);
  }
  return plan;
}

}  // namespace

TEST(engine_plan_identity_equals_name_matching) {
  TempDir d;
  make_family(d);
  ms::EngineRequest req = make_request(d, ms::Method::Ties);
  req.threads = 2;
  req.out_dir = d.sub("by-name");
  ms::run_engine(req, nullptr, nullptr);
  ms::EngineRequest planned = req;
  planned.plan = identity_plan(req);
  planned.has_plan = true;
  planned.out_dir = d.sub("by-plan");
  const ms::EngineResult res = ms::run_engine(planned, nullptr, nullptr);
  CHECK_EQ(res.tensors.size(), kSpecs.size());
  for (const Spec& s : kSpecs) CHECK(read_out(req.out_dir, s.name) == read_out(planned.out_dir, s.name));
}

TEST(engine_plan_per_tensor_parameters_and_renamed_inputs) {
  TempDir d;
  make_family(d);
  ms::EngineRequest req = make_request(d, ms::Method::Ties);
  req.plan = identity_plan(req);
  req.has_plan = true;
  // one tensor with its own densities and lambda (a gradient's value at this layer)
  ms::PlannedTensor& mlp = req.plan.tensors[2];
  mlp.params[0].density = 0.7;
  mlp.params[1].density = 0.3;
  mlp.lambda = 0.8;
  req.out_dir = d.sub("out");
  ms::run_engine(req, nullptr, nullptr);
  // the same tensor through the per-tensor reference with those parameters
  ms::EngineRequest one = make_request(d, ms::Method::Ties);
  one.models[0].params.density = 0.7;
  one.models[1].params.density = 0.3;
  one.params.lambda = 0.8;
  CHECK(read_out(req.out_dir, "model.layers.0.mlp.weight") == reference(one)[2]);
  CHECK(read_out(req.out_dir, "lm_head.weight") == reference(make_request(d, ms::Method::Ties))[0]);

  // passthrough: a renamed output from one input, scaled in the compute dtype
  ms::EngineRequest pt;
  pt.params.method = ms::Method::Passthrough;
  pt.plan.sources = {d.path + "/sft", d.path + "/ct"};
  ms::PlannedTensor a;
  a.name = "model.layers.7.norm.weight";
  a.models = {{1, "model.layers.0.norm.weight"}};
  a.params.resize(1);
  a.params[0].has_scale = true;
  a.params[0].scale = 0.7;
  ms::PlannedTensor b;
  b.name = "model.norm.weight";
  b.models = {{0, "model.norm.weight"}};
  b.params.resize(1);
  pt.plan.tensors = {a, b};
  pt.has_plan = true;
  pt.out_dir = d.sub("pt");
  const ms::EngineResult res = ms::run_engine(pt, nullptr, nullptr);
  CHECK_EQ(res.tensors.size(), size_t(2));
  const ms::ModelSource ct = ms::ModelSource::open(d.path + "/ct");
  std::vector<uint16_t> x(333);
  ct.read(x.data(), *ct.find("model.layers.0.norm.weight"));
  const std::vector<uint16_t> got = read_out(pt.out_dir, "model.layers.7.norm.weight");
  CHECK_EQ(got.size(), size_t(333));
  for (size_t i = 0; i < x.size() && i < got.size(); ++i) CHECK_EQ(got[i], ms::f32_to_bf16(ms::bf16_to_f32(x[i]) * 0.7f));
  const ms::ModelSource sft = ms::ModelSource::open(d.path + "/sft");
  std::vector<uint16_t> n(1);
  sft.read(n.data(), *sft.find("model.norm.weight"));
  CHECK(read_out(pt.out_dir, "model.norm.weight") == n);
}

TEST(engine_plan_errors_name_the_tensor) {
  TempDir d;
  make_family(d);
  auto code_of = [&](const std::function<void(ms::EngineRequest&)>& edit) {
    ms::EngineRequest req = make_request(d, ms::Method::Ties);
    req.plan = identity_plan(req);
    req.has_plan = true;
    edit(req);
    try {
      ms::run_engine(req, nullptr, nullptr);
    } catch (const ms::MergeError& e) {
      return std::string(e.code_name());
    }
    return std::string("none");
  };
  CHECK(code_of([](ms::EngineRequest&) {}) == "none");
  CHECK(code_of([](ms::EngineRequest& r) { r.plan.tensors[1].models[0].tensor = "nope"; }) == "MODEL_TENSOR_MISSING");
  CHECK(code_of([](ms::EngineRequest& r) { r.plan.tensors[1].models[0].source = 9; }) == "RECIPE_INVALID");
  CHECK(code_of([](ms::EngineRequest& r) { r.plan.tensors[1].name = r.plan.tensors[0].name; }) == "RECIPE_INVALID");
  CHECK(code_of([](ms::EngineRequest& r) { r.plan.tensors[1].has_base = false; }) == "RECIPE_INVALID");
  CHECK(code_of([](ms::EngineRequest& r) { r.plan.tensors[2].models[0].tensor = "model.layers.0.norm.weight"; }) ==
        "MODEL_SHAPE_MISMATCH");
  CHECK(code_of([](ms::EngineRequest& r) { r.plan.tensors[1].params[0].weight = 1e300; }) == "RECIPE_INVALID");
  CHECK(code_of([](ms::EngineRequest& r) { r.plan.tensors.clear(); }) == "RECIPE_INVALID");
}
