// Tests of SHA-256, ModelSource (directories, index.json), ShardWriter round
// trips and the golden fixture files.
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "errors.h"
#include "json.h"
#include "model_source.h"
#include "safetensors.h"
#include "sha256.h"
#include "shard_writer.h"
#include "test_main.h"
#include "test_util.h"

using ms::ErrorCode;
using ms::StDtype;

namespace {

using mstest::le64;
using mstest::st_file;

std::string read_all(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/ms_io_test_XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::error_code ec; std::filesystem::remove_all(path, ec); }
  std::string sub(const std::string& name) const {
    const std::string p = path + "/" + name;
    ::mkdir(p.c_str(), 0755);
    return p;
  }
  std::string write(const std::string& name, const std::string& bytes) const {
    const std::string p = path + "/" + name;
    std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    return p;
  }
};

// Deterministic tensor bytes.
std::vector<uint8_t> pattern(uint64_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; b = uint8_t(x); }
  return v;
}

// A tensor entry for handmade headers.
std::string entry(const std::string& name, uint64_t begin, uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"U8\",\"shape\":[" + std::to_string(end - begin) + "],\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

}  // namespace

// ================================================================ SHA-256

TEST(sha256_fips_vectors) {
  CHECK(ms::sha256_hex("", 0) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(ms::sha256_hex("abc", 3) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  CHECK(ms::sha256_hex(m448.data(), m448.size()) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string m896 =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  CHECK(ms::sha256_hex(m896.data(), m896.size()) ==
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  // A million 'a', fed in uneven pieces to exercise the block buffer.
  const std::string a(1000000, 'a');
  ms::Sha256 h;
  uint64_t off = 0, step = 1;
  while (off < a.size()) {
    const uint64_t n = std::min<uint64_t>(step, a.size() - off);
    h.update(a.data() + off, n);
    off += n;
    step = step * 7 % 1000 + 1;
  }
  CHECK(h.final_hex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  CHECK(ms::sha256_hex(a.data(), a.size()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Every length around the padding boundary matches one-shot hashing.
  const auto data = pattern(200, 1);
  for (uint64_t n = 50; n < 140; ++n) {
    ms::Sha256 s;
    for (uint64_t i = 0; i < n; ++i) s.update(&data[i], 1);
    CHECK(s.final_hex() == ms::sha256_hex(data.data(), n));
  }
  h.init();
  h.update("abc", 3);
  CHECK(h.final_hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(sha256_hardware_matches_portable) {
  // SHA-NI (when the CPU has it) and the portable block function agree on
  // every length around the block boundaries and on a large pseudo-random buffer.
  const auto data = pattern(3 << 20, 5);
  auto both = [&](uint64_t n, uint64_t piece) {
    std::string r[2];
    for (int portable = 0; portable < 2; ++portable) {
      ms::sha256_force_portable(portable == 1);
      ms::Sha256 s;
      for (uint64_t off = 0; off < n; off += piece) s.update(data.data() + off, std::min(piece, n - off));
      r[portable] = s.final_hex();
    }
    ms::sha256_force_portable(false);
    CHECK(r[0] == r[1]);
  };
  for (uint64_t n = 0; n < 300; ++n) both(n, n % 7 + 1);
  both(data.size(), data.size());
  both(data.size() - 13, 100003);
  std::printf("  (SHA-256 hardware path: %s)\n", ms::sha256_hw_available() ? "SHA-NI" : "none, portable only");
}

// ================================================================ index.json (pure parser)

TEST(index_parse_valid) {
  const std::string j = R"({"metadata":{"total_size":123,"x":[1]},"weight_map":{"b.w":"model-00002-of-00002.safetensors",)"
                        R"("a.w":"model-00001-of-00002.safetensors"},"extra":true})";
  auto wm = ms::parse_index_json(j.data(), j.size(), "idx.json");
  CHECK_EQ(wm.size(), size_t(2));
  CHECK(wm[0].first == "b.w" && wm[0].second == "model-00002-of-00002.safetensors");  // file order
  CHECK(wm[1].first == "a.w");
  const std::string nometa = R"({"weight_map":{"a":"x.safetensors"}})";
  CHECK(ms::parse_index_json(nometa.data(), nometa.size(), "i").size() == 1);
}

TEST(index_err_json_invalid) {
  for (const std::string& j : {std::string("{"), std::string("[]"), std::string("\"x\""), std::string(""),
                              std::string(R"({"weight_map":{"a":"s"}} x)"),
                              std::string(R"({"weight_map":{"a":"s","a":"s"}})"),
                              std::string(R"({"weight_map":{"a":"s"},"weight_map":{"b":"s"}})"),
                              std::string("{\"weight_map\":{\"a\xff\":\"s\"}}")}) {
    EXPECT_ERR(ms::parse_index_json(j.data(), j.size(), "dir/model.safetensors.index.json"), IDX_JSON_INVALID,
               "dir/model.safetensors.index.json");
  }
}

TEST(index_err_weight_map_invalid) {
  for (const std::string& j : {std::string(R"({"metadata":{}})"), std::string(R"({"weight_map":[]})"),
                              std::string(R"({"weight_map":"x"})"), std::string(R"({"weight_map":{}})"),
                              std::string(R"({"weight_map":{"a":1}})"), std::string(R"({"weight_map":{"a":null}})"),
                              std::string(R"({"weight_map":{"a":["s"]}})")}) {
    EXPECT_ERR(ms::parse_index_json(j.data(), j.size(), "my/index.json"), IDX_WEIGHT_MAP_INVALID, "my/index.json");
  }
}

TEST(index_err_shard_path_invalid) {
  for (const std::string shard : {"../evil.safetensors", "/etc/passwd", "sub/x.safetensors", "..", ".", "",
                                  "a\\\\b.safetensors", "x\\u0000.safetensors"}) {
    const std::string j = "{\"weight_map\":{\"t.w\":\"" + shard + "\"}}";
    EXPECT_ERR(ms::parse_index_json(j.data(), j.size(), "m/index.json"), IDX_SHARD_PATH_INVALID, "m/index.json",
               "\"t.w\"");
  }
  CHECK(ms::is_plain_file_name("model-00001-of-00002.safetensors"));
  CHECK(ms::is_plain_file_name("..x"));
  CHECK(!ms::is_plain_file_name("a/b"));
}

// ================================================================ ModelSource

TEST(model_not_found) {
  TempDir d;
  EXPECT_ERR(ms::ModelSource::open(d.path + "/nope"), MODEL_NOT_FOUND, d.path + "/nope");
  const std::string empty = d.sub("empty");
  EXPECT_ERR(ms::ModelSource::open(empty), MODEL_NOT_FOUND, empty, "model.safetensors.index.json", "model.safetensors");
  const std::string pt = d.sub("pt");
  d.write("pt/pytorch_model.bin", std::string("\x80\x02\x8a\x0a", 4));
  d.write("pt/config.json", "{}");
  EXPECT_ERR(ms::ModelSource::open(pt), MODEL_NOT_FOUND, pt, "pytorch_model.bin", "convert");
  const std::string other = d.sub("other");
  d.write("other/consolidated.safetensors", st_file("{}", ""));
  EXPECT_ERR(ms::ModelSource::open(other), MODEL_NOT_FOUND, "consolidated.safetensors");
  const std::string lora = d.sub("lora");
  d.write("lora/adapter_model.safetensors", st_file("{}", ""));
  EXPECT_ERR(ms::ModelSource::open(lora), MODEL_NOT_FOUND, "adapter");
  const std::string fifo = d.path + "/pipe";
  CHECK(::mkfifo(fifo.c_str(), 0600) == 0);
  EXPECT_ERR(ms::ModelSource::open(fifo), MODEL_NOT_FOUND, fifo);
  // A pickle given as a file path is recognised by its magic bytes.
  EXPECT_ERR(ms::ModelSource::open(pt + "/pytorch_model.bin"), ST_PICKLE_FORMAT, "pytorch_model.bin");
}

TEST(model_single_file_and_dir) {
  TempDir d;
  const auto a = pattern(6, 1), b = pattern(8, 2);
  const std::string h = "{\"__metadata__\":{\"format\":\"pt\"}," + entry("z.b", 0, 8) + "," + entry("a.w", 8, 14) + "}";
  const std::string bytes = st_file(h, std::string(b.begin(), b.end()) + std::string(a.begin(), a.end()));
  const std::string file = d.write("weights.safetensors", bytes);
  d.sub("m");
  d.write("m/model.safetensors", bytes);
  for (const std::string& p : {file, d.path + "/m", d.path + "/m/"}) {
    auto src = ms::ModelSource::open(p);
    CHECK(src.path() == p);
    CHECK_EQ(src.shard_paths().size(), size_t(1));
    CHECK_EQ(src.tensors().size(), size_t(2));
    CHECK(src.tensors()[0].name == "a.w" && src.tensors()[1].name == "z.b");  // sorted by name
    CHECK_EQ(src.total_bytes(), uint64_t(14));
    CHECK_EQ(src.parameter_count(), uint64_t(14));
    CHECK(src.shard_metadata()[0].size() == 1 && src.shard_metadata()[0][0].second == "pt");
    const ms::ModelTensor* t = src.find("a.w");
    CHECK(t != nullptr && t->shard == 0 && t->info.shape == std::vector<uint64_t>{6});
    CHECK(src.find("nope") == nullptr);
    std::vector<uint8_t> out(6);
    src.read(out.data(), *t);
    CHECK(out == a);
  }
}

// Builds a two-shard model by hand (index written separately).
static void write_two_shards(const TempDir& d, const std::string& dir) {
  d.sub(dir);
  d.write(dir + "/s1.safetensors", st_file("{" + entry("a", 0, 4) + "," + entry("b", 4, 6) + "}", "AAAABB"));
  d.write(dir + "/s2.safetensors", st_file("{" + entry("c", 0, 3) + "}", "CCC"));
}

TEST(model_index_valid_and_threaded_reads) {
  TempDir d;
  write_two_shards(d, "m");
  const std::string idx = d.write("m/model.safetensors.index.json",
                                  R"({"metadata":{"total_size":9},"weight_map":{"c":"s2.safetensors","a":"s1.safetensors","b":"s1.safetensors"}})");
  auto src = ms::ModelSource::open(d.path + "/m");
  CHECK_EQ(src.shard_paths().size(), size_t(2));
  CHECK(src.shard_paths()[0] == d.path + "/m/s2.safetensors");  // order of first appearance
  CHECK_EQ(src.tensors().size(), size_t(3));
  CHECK(src.find("c")->shard == 0 && src.find("a")->shard == 1);
  CHECK_EQ(src.total_bytes(), uint64_t(9));
  // Opening the index file itself works too.
  CHECK(ms::ModelSource::open(idx).tensors().size() == 3);
  // Concurrent reads through the shared descriptors.
  bool ok[2] = {true, true};
  std::thread th[2];
  for (int k = 0; k < 2; ++k)
    th[k] = std::thread([&, k] {
      for (int it = 0; it < 500; ++it)
        for (const auto& t : src.tensors()) {
          char buf[8] = {0};
          src.read(buf, t);
          const char want = char(std::toupper(t.name[0]));
          for (uint64_t i = 0; i < t.info.nbytes(); ++i) ok[k] = ok[k] && buf[i] == want;
        }
    });
  for (auto& t : th) t.join();
  CHECK(ok[0] && ok[1]);
}

TEST(model_index_errors) {
  TempDir d;
  write_two_shards(d, "m");
  const std::string dir = d.path + "/m";
  const std::string idx = "m/model.safetensors.index.json";
  const std::string idx_path = d.path + "/" + idx;

  d.write(idx, "{\"weight_map\":");
  EXPECT_ERR(ms::ModelSource::open(dir), IDX_JSON_INVALID, idx_path);
  d.write(idx, R"({"weight_map":{"a":"s1.safetensors","a":"s1.safetensors"}})");
  EXPECT_ERR(ms::ModelSource::open(dir), IDX_JSON_INVALID, idx_path, "duplicate");
  d.write(idx, R"({"metadata":{"total_size":9}})");
  EXPECT_ERR(ms::ModelSource::open(dir), IDX_WEIGHT_MAP_INVALID, idx_path);
  d.write(idx, R"({"weight_map":{"a":"../m/s1.safetensors"}})");
  EXPECT_ERR(ms::ModelSource::open(dir), IDX_SHARD_PATH_INVALID, idx_path);

  // Missing shard.
  d.write(idx, R"({"weight_map":{"a":"s1.safetensors","b":"s1.safetensors","c":"s3.safetensors"}})");
  EXPECT_ERR(ms::ModelSource::open(dir), IDX_SHARD_MISSING, idx_path, "s3.safetensors");
  // Shard name that is a directory.
  d.sub("m/s4.safetensors");
  d.write(idx, R"({"weight_map":{"a":"s4.safetensors"}})");
  EXPECT_ERR(ms::ModelSource::open(dir), IDX_SHARD_MISSING, "s4.safetensors");

  // Index names a tensor the shard does not hold.
  d.write(idx, R"({"weight_map":{"a":"s1.safetensors","b":"s1.safetensors","c":"s2.safetensors","d":"s2.safetensors"}})");
  EXPECT_ERR(ms::ModelSource::open(dir), IDX_TENSOR_NOT_IN_SHARD, idx_path, "\"d\"");
  // Index puts a tensor in the wrong shard.
  d.write(idx, R"({"weight_map":{"a":"s1.safetensors","b":"s2.safetensors","c":"s2.safetensors"}})");
  EXPECT_ERR(ms::ModelSource::open(dir), IDX_TENSOR_NOT_IN_SHARD, "\"b\"");
  // A shard holds a tensor the index does not list.
  d.write(idx, R"({"weight_map":{"a":"s1.safetensors","c":"s2.safetensors"}})");
  EXPECT_ERR(ms::ModelSource::open(dir), IDX_TENSOR_NOT_IN_SHARD, "s1.safetensors", "\"b\"");
  // The same tensor in two shards.
  d.write("m/s5.safetensors", st_file("{" + entry("c", 0, 3) + "," + entry("x", 3, 4) + "}", "CCCX"));
  d.write(idx, R"({"weight_map":{"a":"s1.safetensors","b":"s1.safetensors","c":"s2.safetensors","x":"s5.safetensors"}})");
  EXPECT_ERR(ms::ModelSource::open(dir), IDX_TENSOR_NOT_IN_SHARD, "\"c\"", "both");
  // An index above the size limit is refused before it is read (sparse file: no data written).
  d.write(idx, "{}");
  CHECK(::truncate(idx_path.c_str(), off_t(ms::kMaxIndexBytes + 1)) == 0);
  EXPECT_ERR(ms::ModelSource::open(dir), IDX_JSON_INVALID, idx_path, "byte limit");
  // A corrupt shard surfaces its own ST_* code naming the shard.
  d.write("m/s6.safetensors", st_file("{" + entry("q", 0, 3) + "}", "QQ"));
  d.write(idx, R"({"weight_map":{"q":"s6.safetensors"}})");
  EXPECT_ERR(ms::ModelSource::open(dir), ST_DATA_TRUNCATED, "s6.safetensors");
}

TEST(model_read_after_truncation) {
  TempDir d;
  const auto w = pattern(4096, 3);
  const std::string p = d.write("m.safetensors", st_file("{" + entry("big.w", 0, 4096) + "}", std::string(w.begin(), w.end())));
  auto src = ms::ModelSource::open(p);
  CHECK(::truncate(p.c_str(), 100) == 0);
  std::vector<uint8_t> out(4096);
  EXPECT_ERR(src.read(out.data(), src.tensors()[0]), ST_IO, p, "big.w");
}

// ================================================================ ShardWriter

static std::vector<ms::OutTensorSpec> specs_of(const std::vector<std::pair<std::string, uint64_t>>& f32_sizes) {
  std::vector<ms::OutTensorSpec> s;
  for (const auto& [name, n] : f32_sizes) s.push_back({name, StDtype::F32, {n}});
  return s;
}

TEST(writer_single_shard_round_trip) {
  TempDir d;
  std::vector<ms::OutTensorSpec> specs = {
      {"model.embed_tokens.weight", StDtype::BF16, {5, 3}},
      {"layers.0.mlp.down_proj.weight", StDtype::F32, {4, 2}},
      {"scalar", StDtype::F16, {}},
      {"empty", StDtype::F32, {0, 7}},
      {"we\"ird\\name\n\xC3\xA9", StDtype::U8, {3}},
  };
  const ms::StringPairs meta = {{"format", "pt"}, {"merged_by", "MergeScope"}};
  const uint64_t planned = ms::ShardWriter::planned_bytes(specs, 1ull << 30, meta);
  ms::ShardWriter w(d.path, specs, 1ull << 30, meta);
  CHECK_EQ(w.shard_count(), 1u);
  std::vector<std::vector<uint8_t>> data;
  for (size_t i = 0; i < specs.size(); ++i) data.push_back(pattern(w.tensor_bytes(i), uint32_t(i)));
  w.write_tensor(data[0].data(), data[0].size());
  // Stream one tensor in pieces.
  w.write_tensor_part(data[1].data(), 5);
  w.write_tensor_part(data[1].data() + 5, 0);
  w.write_tensor_part(data[1].data() + 5, data[1].size() - 5);
  w.write_tensor(data[2].data(), 2);
  w.write_tensor(nullptr, 0);  // zero-size tensor
  w.write_tensor(data[4].data(), 3);
  auto shards = w.finish();
  CHECK_EQ(shards.size(), size_t(1));
  CHECK(shards[0].filename == "model.safetensors");
  const std::string path = d.path + "/model.safetensors";
  const std::string bytes = read_all(path);
  CHECK_EQ(shards[0].bytes, uint64_t(bytes.size()));
  CHECK_EQ(planned, uint64_t(bytes.size()));
  CHECK(shards[0].sha256 == ms::sha256_hex(bytes.data(), bytes.size()));
  CHECK(::access((d.path + "/model.safetensors.index.json").c_str(), F_OK) != 0);  // no index for one shard

  auto h = ms::read_safetensors_header(path);
  CHECK_EQ(h.header_len % 8, uint64_t(0));
  CHECK(h.metadata == meta);
  // "__metadata__" first, then the tensors in write order.
  const std::string hdr = bytes.substr(8, h.header_len);
  CHECK(hdr.rfind("{\"__metadata__\":{\"format\":\"pt\",\"merged_by\":\"MergeScope\"},\"model.embed_tokens.weight\"", 0) == 0);
  CHECK_EQ(h.tensors.size(), specs.size());
  ms::FileReader f(path);
  for (size_t i = 0; i < specs.size(); ++i) {
    const ms::TensorInfo* t = h.find(specs[i].name);
    CHECK(t != nullptr);
    if (!t) continue;
    CHECK(t->dtype == specs[i].dtype && t->shape == specs[i].shape);
    std::vector<uint8_t> back(t->nbytes());
    f.read_tensor(back.data(), *t);
    CHECK(back == data[i]);
  }
  // Offsets are in write order.
  CHECK(h.tensors[0].name == "model.embed_tokens.weight");
}

TEST(writer_multi_shard_round_trip) {
  TempDir d;
  // F32 sizes in bytes: 40, 40, 100 (over the limit), 8, 0, 24, 36 with a 64-byte limit.
  auto specs = specs_of({{"t0", 10}, {"t1", 10}, {"big", 25}, {"t3", 2}, {"z", 0}, {"t5", 6}, {"t6", 9}});
  const uint64_t planned = ms::ShardWriter::planned_bytes(specs, 64, {{"format", "pt"}});
  ms::ShardWriter w(d.path, specs, 64, {{"format", "pt"}});
  // Greedy: [t0] [t1] [big] [t3 z t5] [t6]
  CHECK_EQ(w.shard_count(), 5u);
  std::vector<std::vector<uint8_t>> data;
  for (size_t i = 0; i < specs.size(); ++i) {
    data.push_back(pattern(w.tensor_bytes(i), uint32_t(100 + i)));
    if (i == 2) {  // stream the big one in 3 parts
      w.write_tensor_part(data[i].data(), 33);
      w.write_tensor_part(data[i].data() + 33, 33);
      w.write_tensor_part(data[i].data() + 66, 34);
    } else {
      w.write_tensor(data[i].data(), data[i].size());
    }
  }
  auto shards = w.finish();
  CHECK_EQ(shards.size(), size_t(5));
  const std::vector<std::vector<std::string>> expect = {{"t0"}, {"t1"}, {"big"}, {"t3", "z", "t5"}, {"t6"}};
  uint64_t total_files = 0;
  for (size_t s = 0; s < shards.size(); ++s) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-00005.safetensors", s + 1);
    CHECK(shards[s].filename == name);
    const std::string p = d.path + "/" + name;
    const std::string bytes = read_all(p);
    CHECK_EQ(shards[s].bytes, uint64_t(bytes.size()));
    CHECK(shards[s].sha256 == ms::sha256_hex(bytes.data(), bytes.size()));
    total_files += bytes.size();
    auto h = ms::read_safetensors_header(p);
    std::vector<std::string> names;
    for (const auto& t : h.tensors) names.push_back(t.name);
    CHECK(names == expect[s]);
    CHECK(h.metadata.size() == 1);
  }
  const std::string idx = read_all(d.path + "/model.safetensors.index.json");
  CHECK_EQ(planned, total_files + idx.size());
  auto wm = ms::parse_index_json(idx.data(), idx.size(), "idx");
  std::vector<std::string> keys;
  for (const auto& [k, v] : wm) keys.push_back(k);
  CHECK(std::is_sorted(keys.begin(), keys.end()));
  CHECK_EQ(wm.size(), specs.size());
  auto r = ms::json::parse(idx.data(), idx.size());
  uint64_t total = 0;
  CHECK(r.ok && r.doc.root().get("metadata").get("total_size").as_u64(&total) && total == 4 * (10 + 10 + 25 + 2 + 6 + 9));
  CHECK(idx.find("\n  \"weight_map\": {\n    \"big\": \"model-00003-of-00005.safetensors\",") != std::string::npos);

  // Reading it back as a model directory.
  auto src = ms::ModelSource::open(d.path);
  CHECK_EQ(src.shard_paths().size(), size_t(5));
  CHECK_EQ(src.tensors().size(), specs.size());
  CHECK_EQ(src.total_bytes(), total);
  for (size_t i = 0; i < specs.size(); ++i) {
    const ms::ModelTensor* t = src.find(specs[i].name);
    CHECK(t != nullptr);
    if (!t) continue;
    std::vector<uint8_t> back(t->info.nbytes());
    src.read(back.data(), *t);
    CHECK(back == data[i]);
  }
}

TEST(writer_sharding_rule_edges) {
  TempDir d;
  // A first tensor above the limit gets its own shard; exact fits stay together.
  {
    auto specs = specs_of({{"big", 100}, {"a", 8}, {"b", 8}, {"c", 1}});
    ms::ShardWriter w(d.sub("e1"), specs, 64, {});
    CHECK_EQ(w.shard_count(), 3u);  // [big] [a b] [c]  (32+32 == 64 fits)
  }
  {
    auto specs = specs_of({{"a", 1}});
    ms::ShardWriter w(d.sub("e2"), specs, 1, {});  // 4 bytes > 1: own shard
    CHECK_EQ(w.shard_count(), 1u);
    CHECK(w.shard_filenames()[0] == "model.safetensors");
  }
  // No metadata -> no __metadata__ key; no tensors -> header-only file.
  {
    const std::string dir = d.sub("e3");
    ms::ShardWriter w(dir, {}, 64, {});
    auto shards = w.finish();
    CHECK(shards.size() == 1 && shards[0].filename == "model.safetensors");
    const std::string bytes = read_all(dir + "/model.safetensors");
    CHECK(bytes.size() == 16 && bytes.substr(8) == "{}      ");
    CHECK(ms::read_safetensors_header(dir + "/model.safetensors").tensors.empty());
  }
}

TEST(writer_misuse_is_internal) {
  TempDir d;
  auto specs = specs_of({{"a", 2}, {"b", 2}});
  std::vector<uint8_t> buf(64);
  {
    ms::ShardWriter w(d.sub("m1"), specs, 1 << 20, {});
    EXPECT_ERR(w.write_tensor(buf.data(), 7), INTERNAL, "\"a\"");       // wrong size
    EXPECT_ERR(w.write_tensor_part(buf.data(), 9), INTERNAL, "\"a\"");  // more than the tensor holds
    w.write_tensor_part(buf.data(), 4);
    EXPECT_ERR(w.write_tensor(buf.data(), 8), INTERNAL, "partly");      // whole write mid-tensor
    EXPECT_ERR(w.finish(), INTERNAL, "0 of 2");
    w.write_tensor_part(buf.data(), 4);
    w.write_tensor(buf.data(), 8);
    EXPECT_ERR(w.write_tensor(buf.data(), 8), INTERNAL, "after all");
    w.finish();
    EXPECT_ERR(w.finish(), INTERNAL, "finish");
  }
  EXPECT_ERR(ms::ShardWriter(d.path, specs_of({{"a", 1}, {"a", 1}}), 64, {}), INTERNAL, "\"a\"");
  EXPECT_ERR(ms::ShardWriter(d.path, specs_of({{"__metadata__", 1}}), 64, {}), INTERNAL, "__metadata__");
  EXPECT_ERR(ms::ShardWriter(d.path, specs_of({{"bad\xff", 1}}), 64, {}), INTERNAL, "UTF-8");
  EXPECT_ERR(ms::ShardWriter(d.path, {{"f4", StDtype::F4, {3}}}, 64, {}), INTERNAL, "f4");
  EXPECT_ERR(ms::ShardWriter(d.path, {{"o", StDtype::F32, {1ull << 62}}}, 64, {}), INTERNAL, "\"o\"");
  EXPECT_ERR(ms::ShardWriter(d.path, specs, 64, {{"k", "v"}, {"k", "w"}}), INTERNAL, "\"k\"");
  EXPECT_ERR(ms::ShardWriter(d.path, specs, 0, {}), RECIPE_INVALID, "shard size");
  EXPECT_ERR(ms::ShardWriter::planned_bytes(specs, 0), RECIPE_INVALID, "shard size");
}

TEST(writer_io_errors) {
  TempDir d;
  auto specs = specs_of({{"a", 2}});
  std::vector<uint8_t> buf(8);
  // Existing output file: never overwritten.
  const std::string dir = d.sub("x");
  d.write("x/model.safetensors", "old");
  {
    ms::ShardWriter w(dir, specs, 64, {});
    EXPECT_ERR(w.write_tensor(buf.data(), 8), OUT_EXISTS, dir + "/model.safetensors");
    EXPECT_ERR(w.write_tensor(buf.data(), 8), INTERNAL, "after a write error");
  }
  CHECK(read_all(dir + "/model.safetensors") == "old");
  // Missing directory.
  {
    ms::ShardWriter w(d.path + "/missing", specs, 64, {});
    EXPECT_ERR(w.write_tensor(buf.data(), 8), OUT_IO, d.path + "/missing/model.safetensors");
  }
  // Free space check.
  EXPECT_ERR(ms::check_free_space(d.path, UINT64_MAX), OUT_NO_SPACE, "GB free at " + d.path);
  ms::check_free_space(d.path, 1);
  EXPECT_ERR(ms::check_free_space(d.path + "/missing", 1), OUT_IO, d.path + "/missing");
}

// ================================================================ golden fixtures

static std::vector<std::string> list_dir(const std::string& p) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(p.c_str())) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') out.emplace_back(e->d_name);
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(golden_files_parse) {
  const std::string root = "../../test/fixtures/golden";
  int files = 0, cases = 0;
  for (const auto& c : list_dir(root)) {
    const std::string dir = root + "/" + c;
    const std::string case_json = read_all(dir + "/case.json");
    if (case_json.empty()) continue;
    auto cj = ms::json::parse(case_json.data(), case_json.size());
    CHECK(cj.ok);
    if (!cj.ok) continue;
    const ms::json::Value kind = cj.doc.root().get("kind");
    if (kind.is_string() && kind.str() == "cli") continue;  // whole HF model folders: test_golden_cli.cc
    ++cases;
    const ms::json::Value tensors = cj.doc.root().get("tensors");
    CHECK(tensors.is_object() && tensors.size() > 0);
    for (const auto& f : list_dir(dir)) {
      if (f.size() < 12 || f.substr(f.size() - 12) != ".safetensors") continue;
      ++files;
      const std::string path = dir + "/" + f;
      // U8 masks: ambiguous_mask (tensor names) or trim / DELLA keep masks ("<role>/<tensor>")
      const bool mask = f.find("mask") != std::string::npos;
      if (mask && f != "ambiguous_mask.safetensors") {
        const ms::SafetensorsHeader h = ms::read_safetensors_header(path);
        for (const ms::TensorInfo& t : h.tensors) CHECK(t.dtype == StDtype::U8 && t.name.find('/') != std::string::npos);
        continue;
      }
      ms::SafetensorsHeader h;
      try {
        h = ms::read_safetensors_header(path);
      } catch (const ms::MergeError& e) {
        std::fprintf(stderr, "  %s: %s\n", path.c_str(), e.what());
        CHECK(false);
        continue;
      }
      CHECK_EQ(h.tensors.size(), size_t(tensors.size()));
      for (const auto m : tensors.members()) {
        const ms::TensorInfo* t = h.find(m.key);
        if (!t) { std::fprintf(stderr, "  %s lacks %s\n", path.c_str(), std::string(m.key).c_str()); CHECK(false); continue; }
        std::vector<uint64_t> shape;
        for (const auto d : m.value.get("shape").elements()) {
          uint64_t x = 0;
          CHECK(d.as_u64(&x));
          shape.push_back(x);
        }
        const ms::json::Value is_embed = m.value.get("is_embed");  // absent in the second batch's cases
        const bool embed = is_embed.is_bool() && is_embed.as_bool();
        if (embed && f.rfind("model_", 0) == 0) {
          // Embedding rows may differ between models (cut to the base's rows).
          CHECK(t->shape.size() == shape.size() && std::equal(shape.begin() + 1, shape.end(), t->shape.begin() + 1));
        } else {
          if (t->shape != shape) std::fprintf(stderr, "  %s: %s shape differs\n", path.c_str(), t->name.c_str());
          CHECK(t->shape == shape);
        }
        // arcee_fusion's native result is float32 (case.json "native_output_dtype")
        const bool native_dtype = f == "expected_native.safetensors" && m.value.get("native_output_dtype").is_string();
        const std::string want = f == "ambiguous_mask.safetensors" ? "U8"
                                 : native_dtype ? std::string(m.value.get("native_output_dtype").str())
                                                : std::string(m.value.get("dtype").str());
        CHECK(want == ms::st_dtype_name(t->dtype));
      }
      // Every tensor readable through ModelSource.
      auto src = ms::ModelSource::open(path);
      std::vector<uint8_t> buf;
      for (const auto& t : src.tensors()) {
        buf.resize(t.info.nbytes());
        src.read(buf.data(), t);
      }
    }
  }
  CHECK(cases >= 20);
  CHECK(files >= 100);
  // The documented example.
  auto h = ms::read_safetensors_header(root + "/ties_f32_sum_norm_a0.2_b1.0/base.safetensors");
  const ms::TensorInfo* t = h.find("layers.0.mlp.down_proj.weight");
  CHECK(t != nullptr && t->shape == (std::vector<uint64_t>{48, 64}) && t->dtype == StDtype::F32);
}
