// Per-input transforms (input_transforms.h): the LoRA delta against a plain reference on
// random shapes and dtypes (transposed, cut to a sub-matrix), checked shapes, row maps
// (validation, runs, averages in the compute dtype, pad rows), and the LoRA golden cli cases
// (test/fixtures/golden/cli_*_lora_bf16) through run_engine, bit for bit.
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "dtype.h"
#include "errors.h"
#include "golden_util.h"
#include "input_transforms.h"
#include "merge_engine.h"
#include "model_source.h"
#include "shard_writer.h"
#include "test_main.h"

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/ms_transforms_test_XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::error_code ec; std::filesystem::remove_all(path, ec); }
};

uint32_t g_rng = 777;
uint32_t rnd() { g_rng ^= g_rng << 13; g_rng ^= g_rng >> 17; g_rng ^= g_rng << 5; return g_rng; }
float rnd_value() { return float(int32_t(rnd() % 20001) - 10000) / 4096.f; }

struct NamedTensor {
  std::string name;
  std::vector<uint64_t> shape;
  std::vector<float> values;  // already representable in `dt`
  ms::DType dt;
};

ms::StDtype st_of(ms::DType d) { return d == ms::DType::F32 ? ms::StDtype::F32 : d == ms::DType::F16 ? ms::StDtype::F16 : ms::StDtype::BF16; }

// Writes `dir`/model.safetensors (the directory is created).
void write_file(const std::string& dir, const std::vector<NamedTensor>& ts) {
  std::filesystem::create_directories(dir);
  std::vector<ms::OutTensorSpec> specs;
  for (const auto& t : ts) specs.push_back({t.name, st_of(t.dt), t.shape});
  ms::ShardWriter w(dir, specs, 1ull << 40, {{"format", "pt"}});
  for (const auto& t : ts) {
    std::vector<uint8_t> raw(t.values.size() * ms::dtype_size(t.dt));
    ms::narrow(raw.data(), t.values.data(), t.dt, t.values.size());
    w.write_tensor(raw.data(), raw.size());
  }
  w.finish();
}

NamedTensor random_tensor(const std::string& name, std::vector<uint64_t> shape, ms::DType dt) {
  NamedTensor t{name, shape, {}, dt};
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  for (uint64_t i = 0; i < n; ++i) t.values.push_back(ms::round_to(dt, rnd_value()));
  return t;
}

// Plain reference: the full delta (B @ A) element by element, then W + d rounded to storage.
std::vector<float> lora_reference(const NamedTensor& w, const NamedTensor& a, const NamedTensor& b, float scale, bool transpose,
                                  uint64_t rows, uint64_t cols) {
  const uint64_t r = a.shape[0], q = a.shape[1];
  std::vector<float> out(rows * cols);
  for (uint64_t i = 0; i < rows; ++i)
    for (uint64_t j = 0; j < cols; ++j) {
      const uint64_t bi = transpose ? j : i, aj = transpose ? i : j;
      float acc = 0.0f;
      for (uint64_t k = 0; k < r; ++k) {
        const float prod = b.values[bi * r + k] * a.values[k * q + aj];
        acc = acc + prod;
      }
      const float d = acc * scale;
      out[i * cols + j] = ms::round_to(w.dt, w.values[i * w.shape[1] + j] + d);
    }
  return out;
}

}  // namespace

TEST(lora_matches_reference_on_random_shapes) {
  const ms::DType dts[] = {ms::DType::F32, ms::DType::F16, ms::DType::BF16};
  for (int iter = 0; iter < 24; ++iter) {
    TempDir d;
    const ms::DType wdt = dts[iter % 3], adt = dts[(iter / 3) % 3];
    const bool transpose = iter % 2 == 1;
    const uint64_t p = 1 + rnd() % 40, q = 1 + rnd() % 40, r = 1 + rnd() % 9;
    NamedTensor a = random_tensor("m.lora_A.weight", {r, q}, adt);
    NamedTensor b = random_tensor("m.lora_B.weight", {p, r}, adt);
    NamedTensor w = random_tensor("m.weight", transpose ? std::vector<uint64_t>{q, p} : std::vector<uint64_t>{p, q}, wdt);
    write_file(d.path + "/adapter", {a, b});
    write_file(d.path + "/model", {w});
    auto adapter = ms::ModelSource::open(d.path + "/adapter");
    auto model = ms::ModelSource::open(d.path + "/model");
    const double scale = iter % 4 == 0 ? 16.0 / std::sqrt(double(r)) : 2.0;
    ms::LoraTarget target{"m.weight", "m.lora_A.weight", "m.lora_B.weight", scale, transpose};
    const ms::LoraApply l = ms::resolve_lora(adapter, target, *model.find("m.weight"), model.path());
    // The whole matrix, and a top-left sub-matrix (an embedding cut to the base's rows/cols).
    for (int cut = 0; cut < 2; ++cut) {
      const uint64_t rows = cut ? (w.shape[0] + 1) / 2 : w.shape[0], cols = cut ? (w.shape[1] + 1) / 2 : w.shape[1];
      std::vector<float> x(rows * cols);
      for (uint64_t i = 0; i < rows; ++i)
        for (uint64_t j = 0; j < cols; ++j) x[i * cols + j] = w.values[i * w.shape[1] + j];
      std::vector<uint8_t> staging;
      ms::apply_lora(x.data(), rows, cols, wdt, l, &staging);
      const std::vector<float> ref = lora_reference(w, a, b, float(scale), transpose, rows, cols);
      uint64_t differ = 0;
      for (uint64_t i = 0; i < x.size(); ++i) differ += ms::f32_bits(x[i]) != ms::f32_bits(ref[i]);
      CHECK_EQ(differ, uint64_t(0));
    }
  }
}

TEST(lora_checks_shapes) {
  TempDir d;
  write_file(d.path + "/adapter", {random_tensor("A", {4, 16}, ms::DType::BF16), random_tensor("B", {8, 4}, ms::DType::BF16),
                                               random_tensor("B3", {8, 3}, ms::DType::BF16)});
  write_file(d.path + "/model", {random_tensor("w", {8, 16}, ms::DType::BF16), random_tensor("v", {16, 16}, ms::DType::BF16)});
  auto adapter = ms::ModelSource::open(d.path + "/adapter");
  auto model = ms::ModelSource::open(d.path + "/model");
  ms::resolve_lora(adapter, {"w", "A", "B", 2.0, false}, *model.find("w"), model.path());
  CHECK_THROWS_CODE(ms::resolve_lora(adapter, {"v", "A", "B", 2.0, false}, *model.find("v"), model.path()), MODEL_SHAPE_MISMATCH);
  CHECK_THROWS_CODE(ms::resolve_lora(adapter, {"w", "A", "B", 2.0, true}, *model.find("w"), model.path()), MODEL_SHAPE_MISMATCH);
  CHECK_THROWS_CODE(ms::resolve_lora(adapter, {"w", "A", "B3", 2.0, false}, *model.find("w"), model.path()), MODEL_SHAPE_MISMATCH);
  CHECK_THROWS_CODE(ms::resolve_lora(adapter, {"w", "A", "nope", 2.0, false}, *model.find("w"), model.path()), MODEL_TENSOR_MISSING);
}

TEST(row_maps_gather_average_and_pad) {
  TempDir d;
  // base: 4 rows, ct: 6 rows (2 new tokens), cols 3.
  NamedTensor base = random_tensor("embed_tokens.weight", {4, 3}, ms::DType::BF16);
  NamedTensor ct = random_tensor("embed_tokens.weight", {6, 3}, ms::DType::BF16);
  NamedTensor sft = random_tensor("embed_tokens.weight", {5, 3}, ms::DType::BF16);
  write_file(d.path + "/b", {base});
  write_file(d.path + "/c", {ct});
  write_file(d.path + "/s", {sft});
  auto b = ms::ModelSource::open(d.path + "/b"), c = ms::ModelSource::open(d.path + "/c"), s = ms::ModelSource::open(d.path + "/s");
  ms::RowGather g;
  ms::EmbedRowMap map;
  map.rows = 8;  // 6 tokens + 2 pad rows
  map.pad_from = 6;
  map.runs = {{0, 4, ms::kBaseModel, 0}, {4, 1, 1, 5}};       // base rows 0..3, ct's row 5 for token 4
  map.averages = {{5, {{0, 4}, {1, 4}}}};                     // token 5: average of sft row 4 and ct row 4
  g.map = &map;
  auto read = [](const ms::ModelSource& m) { return ms::TensorRead{&m, m.find("embed_tokens.weight"), ms::DType::BF16}; };
  g.sources = {read(b), read(s), read(c)};
  ms::validate_row_gather(g, 3, "embed_tokens.weight", "test");
  std::vector<float> out(8 * 3, -1.0f);
  std::vector<uint8_t> staging;
  ms::gather_rows(out.data(), g, 3, &staging);
  ms::finish_rows(out.data(), g, 3, ms::DType::BF16, &staging);
  for (int j = 0; j < 3; ++j) {
    for (int r = 0; r < 4; ++r) CHECK_EQ(out[r * 3 + j], base.values[r * 3 + j]);
    CHECK_EQ(out[4 * 3 + j], ct.values[5 * 3 + j]);
    const float avg = ms::round_bf16(ms::round_bf16(ms::round_bf16(0.0f + sft.values[4 * 3 + j]) + ct.values[4 * 3 + j]) / 2.0f);
    CHECK_EQ(out[5 * 3 + j], avg);
    double sum = 0;
    for (int r = 0; r < 6; ++r) sum += out[r * 3 + j];
    CHECK_EQ(out[6 * 3 + j], ms::round_bf16(float(sum / 6)));
    CHECK_EQ(out[7 * 3 + j], out[6 * 3 + j]);
  }
  // Every row covered exactly once, sources in range.
  map.runs = {{0, 4, ms::kBaseModel, 0}};
  CHECK_THROWS_CODE(ms::validate_row_gather(g, 3, "t", "test"), RECIPE_INVALID);  // row 4 has no source
  map.runs = {{0, 4, ms::kBaseModel, 0}, {3, 2, 1, 0}};
  CHECK_THROWS_CODE(ms::validate_row_gather(g, 3, "t", "test"), RECIPE_INVALID);  // row 3 twice
  map.runs = {{0, 4, ms::kBaseModel, 1}, {4, 1, 1, 5}};
  CHECK_THROWS_CODE(ms::validate_row_gather(g, 3, "t", "test"), RECIPE_INVALID);  // base has 4 rows
  map.runs = {{0, 4, ms::kBaseModel, 0}, {4, 1, 7, 0}};
  CHECK_THROWS_CODE(ms::validate_row_gather(g, 3, "t", "test"), RECIPE_INVALID);  // no model 7
  CHECK_THROWS_CODE(ms::validate_row_gather(g, 4, "t", "test"), RECIPE_INVALID);  // columns differ
}

// ---- golden: cli_linear_lora_bf16 / cli_ties_lora_bf16 through the engine -------------------

namespace {

const std::string kGolden = "../../test/fixtures/golden";

std::shared_ptr<ms::LoraAdapter> golden_adapter(const std::string& dir) {
  auto lora = std::make_shared<ms::LoraAdapter>();
  lora->path = dir + "/models/lora/adapter_model.safetensors";
  auto a = ms::ModelSource::open(lora->path);
  for (const ms::ModelTensor& t : a.tensors()) {
    const std::string suffix = ".lora_A.weight";
    if (t.name.size() < suffix.size() || t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string module = t.name.substr(std::string("base_model.model.").size(), t.name.size() - suffix.size() - std::string("base_model.model.").size());
    lora->targets.push_back({module + ".weight", t.name, "base_model.model." + module + ".lora_B.weight", 8.0 / 4.0, false});
  }
  return lora;
}

// Runs the case's recipe (method, weights/densities, LoRA on the second model) and compares every tensor.
void run_lora_case(const std::string& id, bool native) {
  const std::string dir = kGolden + "/" + id;
  TempDir out;
  ms::EngineRequest r;
  const bool ties = id.find("ties") != std::string::npos;
  r.params.method = ties ? ms::Method::Ties : ms::Method::Linear;
  r.params.normalize = true;
  r.compute = native ? ms::ComputeMode::Storage : ms::ComputeMode::F32;
  r.has_out_dtype = !native;
  r.out_dtype = ms::DType::BF16;
  r.out_dir = out.path;
  r.threads = 2;
  if (ties) r.base_path = dir + "/models/base";
  ms::EngineModel sft, lora;
  sft.path = dir + "/models/sft";
  sft.params.weight = ties ? 1.0 : 0.5;
  sft.params.density = ties ? 0.5 : 1.0;
  lora.path = dir + "/models/base";
  lora.params.weight = ties ? 1.0 : 0.5;
  lora.params.density = ties ? 0.3 : 1.0;
  lora.transforms.lora = golden_adapter(dir);
  r.models = {sft, lora};
  const ms::EngineResult res = ms::run_engine(r, nullptr, nullptr);
  CHECK(res.shards.size() == 1);
  const auto got = golden::load_safetensors(out.path + "/model.safetensors");
  const auto want = golden::load_safetensors(dir + (native ? "/expected_native.safetensors" : "/expected.safetensors"));
  uint64_t differ = 0, total = 0;
  for (const auto& [name, t] : want) {
    const auto it = got.find(name);
    CHECK(it != got.end());
    if (it == got.end()) continue;
    for (size_t i = 0; i < t.f.size(); ++i, ++total) differ += ms::f32_bits(t.f[i]) != ms::f32_bits(it->second.f[i]);
  }
  std::printf("  golden %-24s %-6s: %llu/%llu values differ\n", id.c_str(), native ? "native" : "f32", (unsigned long long)differ,
              (unsigned long long)total);
  // ties: only top-k tie positions may differ until the tie order lands (see golden-cli.test.ts).
  if (!ties) CHECK_EQ(differ, uint64_t(0));
}

}  // namespace

TEST(golden_lora_merge_equals_peft_merge) {
  // linear with the LoRA model alone (weight 1) reproduces peft's merge_and_unload output.
  const std::string dir = kGolden + "/cli_linear_lora_bf16";
  TempDir out;
  ms::EngineRequest r;
  r.params.method = ms::Method::Linear;
  r.params.normalize = true;
  r.out_dir = out.path;
  ms::EngineModel m;
  m.path = dir + "/models/base";
  m.params.weight = 1.0;
  m.transforms.lora = golden_adapter(dir);
  r.models = {m};
  ms::run_engine(r, nullptr, nullptr);
  const auto got = golden::load_safetensors(out.path + "/model.safetensors");
  const auto want = golden::load_safetensors(dir + "/lora_merged_expected.safetensors");
  CHECK_EQ(want.size(), size_t(12));
  for (const auto& [name, t] : want) {
    uint64_t differ = 0;
    for (size_t i = 0; i < t.f.size(); ++i) differ += ms::f32_bits(t.f[i]) != ms::f32_bits(got.at(name).f[i]);
    CHECK_EQ(differ, uint64_t(0));
  }
}

TEST(golden_cli_lora_cases) {
  for (const char* id : {"cli_linear_lora_bf16", "cli_ties_lora_bf16"})
    for (bool native : {false, true}) run_lora_case(id, native);
}

TEST(lora_target_missing_from_model_is_an_error) {
  const std::string dir = kGolden + "/cli_linear_lora_bf16";
  TempDir out;
  ms::EngineRequest r;
  r.params.method = ms::Method::Linear;
  ms::EngineModel m;
  m.path = dir + "/models/base";
  auto lora = golden_adapter(dir);
  lora->targets.push_back({"model.layers.9.self_attn.q_proj.weight", lora->targets[0].a_name, lora->targets[0].b_name, 2.0, false});
  m.transforms.lora = lora;
  r.models = {m};
  CHECK_THROWS_CODE(ms::run_engine(r, nullptr, nullptr), MODEL_TENSOR_MISSING);
}
