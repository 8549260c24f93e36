// Tests of the engine's path policy (path_policy.h): every file the engine
// opens — model folder, index, shards, single files — must lie inside the
// allowed roots, checked on the opened descriptor; FIFOs never block.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "errors.h"
#include "merge_engine.h"
#include "model_source.h"
#include "path_policy.h"
#include "safetensors.h"
#include "test_main.h"
#include "test_util.h"

namespace {

using mstest::st_file;

struct Tree {
  std::string base;  // realpath of a fresh temp dir
  std::string root, outside, sibling;
  Tree() {
    char tmpl[] = "/tmp/ms_policy_test_XXXXXX";
    char* made = ::mkdtemp(tmpl);
    char* real = ::realpath(made, nullptr);
    base = real;
    ::free(real);
    root = base + "/models";
    outside = base + "/outside";
    sibling = base + "/models-evil";
    for (const auto& d : {root, outside, sibling}) std::filesystem::create_directories(d);
  }
  ~Tree() { std::error_code ec; std::filesystem::remove_all(base, ec); }
};

std::string entry(const std::string& name, uint64_t begin, uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"U8\",\"shape\":[" + std::to_string(end - begin) + "],\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

void write(const std::string& p, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(p).parent_path());
  std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

// A two-shard model folder at `dir`.
void sharded_model(const std::string& dir) {
  write(dir + "/s1.safetensors", st_file("{" + entry("a", 0, 4) + "}", "AAAA"));
  write(dir + "/s2.safetensors", st_file("{" + entry("c", 0, 3) + "}", "CCC"));
  write(dir + "/model.safetensors.index.json", R"({"weight_map":{"a":"s1.safetensors","c":"s2.safetensors"}})");
}

void single_model(const std::string& dir) { write(dir + "/model.safetensors", st_file("{" + entry("a", 0, 4) + "}", "AAAA")); }

}  // namespace

TEST(policy_allows_files_inside_the_roots) {
  Tree t;
  sharded_model(t.root + "/m");
  single_model(t.root + "/one");
  std::filesystem::create_symlink(t.root + "/m", t.root + "/link-in");
  const ms::PathPolicy policy = ms::make_path_policy({t.root});
  CHECK_EQ(ms::ModelSource::open(t.root + "/m", &policy).tensors().size(), size_t(2));
  CHECK_EQ(ms::ModelSource::open(t.root + "/link-in", &policy).tensors().size(), size_t(2));
  CHECK_EQ(ms::ModelSource::open(t.root + "/one/model.safetensors", &policy).tensors().size(), size_t(1));
  CHECK_EQ(ms::ModelSource::open(t.root + "/m/model.safetensors.index.json", &policy).tensors().size(), size_t(2));
}

TEST(policy_refuses_a_model_folder_that_is_a_symlink_out) {
  Tree t;
  sharded_model(t.outside + "/m");
  std::filesystem::create_symlink(t.outside + "/m", t.root + "/link-out");
  const ms::PathPolicy policy = ms::make_path_policy({t.root});
  EXPECT_ERR(ms::ModelSource::open(t.root + "/link-out", &policy), PATH_NOT_ALLOWED, t.root + "/link-out",
             "resolves to " + t.outside + "/m", "outside the allowed model roots");
  // Deeper: a folder inside the root whose parent is a link out.
  std::filesystem::create_symlink(t.outside, t.root + "/deep");
  EXPECT_ERR(ms::ModelSource::open(t.root + "/deep/m", &policy), PATH_NOT_ALLOWED, "outside the allowed model roots");
  // Without a policy (the local CLI) the same folder is read.
  CHECK_EQ(ms::ModelSource::open(t.root + "/link-out").tensors().size(), size_t(2));
}

TEST(policy_refuses_a_shard_symlink_inside_a_model_folder) {
  Tree t;
  sharded_model(t.root + "/m");
  write(t.outside + "/secret.safetensors", st_file("{" + entry("c", 0, 3) + "}", "XYZ"));
  std::filesystem::remove(t.root + "/m/s2.safetensors");
  std::filesystem::create_symlink(t.outside + "/secret.safetensors", t.root + "/m/s2.safetensors");
  const ms::PathPolicy policy = ms::make_path_policy({t.root});
  EXPECT_ERR(ms::ModelSource::open(t.root + "/m", &policy), PATH_NOT_ALLOWED, t.root + "/m/s2.safetensors",
             t.outside + "/secret.safetensors");
  // The single-file layout too, and an index that is itself a link out.
  single_model(t.outside + "/one");
  std::filesystem::create_directories(t.root + "/one");
  std::filesystem::create_symlink(t.outside + "/one/model.safetensors", t.root + "/one/model.safetensors");
  EXPECT_ERR(ms::ModelSource::open(t.root + "/one", &policy), PATH_NOT_ALLOWED, t.root + "/one/model.safetensors");
  sharded_model(t.root + "/idx");
  sharded_model(t.outside + "/idx");
  std::filesystem::remove(t.root + "/idx/model.safetensors.index.json");
  std::filesystem::create_symlink(t.outside + "/idx/model.safetensors.index.json", t.root + "/idx/model.safetensors.index.json");
  EXPECT_ERR(ms::ModelSource::open(t.root + "/idx", &policy), PATH_NOT_ALLOWED, "model.safetensors.index.json");
}

TEST(policy_compares_whole_components) {
  Tree t;
  sharded_model(t.sibling + "/m");
  const ms::PathPolicy policy = ms::make_path_policy({t.root});
  CHECK(t.sibling.compare(0, t.root.size(), t.root) == 0);  // shares the root's string prefix
  EXPECT_ERR(ms::ModelSource::open(t.sibling + "/m", &policy), PATH_NOT_ALLOWED, t.sibling + "/m");
  CHECK(ms::path_inside(policy, t.root));
  CHECK(!ms::path_inside(policy, t.sibling));
  CHECK(!ms::path_inside(policy, t.base));
  // A missing root allows nothing.
  const ms::PathPolicy none = ms::make_path_policy({t.base + "/missing"});
  CHECK(none.enabled && none.roots.empty());
  EXPECT_ERR(ms::ModelSource::open(t.sibling + "/m", &none), PATH_NOT_ALLOWED, "none exists");
}

TEST(policy_refuses_a_folder_swapped_for_a_symlink_after_the_check) {
  // The server checks at enqueue; the worker's engine checks again on the
  // descriptors it opens, so a swap in between is caught.
  Tree t;
  sharded_model(t.root + "/m");
  sharded_model(t.outside + "/m");
  const ms::PathPolicy policy = ms::make_path_policy({t.root});
  ms::check_path_inside(policy, t.root + "/m");  // the earlier check passes
  std::filesystem::rename(t.root + "/m", t.root + "/m-moved");
  std::filesystem::create_symlink(t.outside + "/m", t.root + "/m");
  EXPECT_ERR(ms::ModelSource::open(t.root + "/m", &policy), PATH_NOT_ALLOWED, t.root + "/m");
  // The descriptor check alone (as FileReader runs it after open) catches it too.
  EXPECT_ERR(ms::FileReader(t.root + "/m/s1.safetensors", &policy), PATH_NOT_ALLOWED, t.root + "/m/s1.safetensors");
}

TEST(policy_engine_request_refuses_inputs_outside) {
  Tree t;
  single_model(t.root + "/base");
  single_model(t.outside + "/ct");
  std::filesystem::create_symlink(t.outside + "/ct", t.root + "/ct");
  ms::EngineRequest req;
  req.params.method = ms::Method::TaskArithmetic;
  req.base_path = t.root + "/base";
  ms::EngineModel m;
  m.path = t.root + "/ct";
  m.params.weight = 1;
  m.params.density = 1;
  req.models.push_back(m);
  req.paths = ms::make_path_policy({t.root});
  EXPECT_ERR(ms::run_engine(req, nullptr, nullptr), PATH_NOT_ALLOWED, t.root + "/ct");
}

TEST(policy_fifo_inside_a_root_does_not_block) {
  Tree t;
  std::filesystem::create_directories(t.root + "/m");
  const std::string fifo = t.root + "/m/model.safetensors";
  CHECK(::mkfifo(fifo.c_str(), 0600) == 0);
  const ms::PathPolicy policy = ms::make_path_policy({t.root});
  // stat() sees a FIFO: reported, never opened for a blocking read.
  EXPECT_ERR(ms::ModelSource::open(t.root + "/m", &policy), MODEL_NOT_FOUND, t.root + "/m");
  EXPECT_ERR(ms::ModelSource::open(fifo, &policy), MODEL_NOT_FOUND, fifo, "not a regular file");
  EXPECT_ERR(ms::FileReader(fifo, &policy), ST_IO, fifo, "not a regular file");
  // A shard listed in an index that is a FIFO.
  write(t.root + "/m2/s1.safetensors", st_file("{" + entry("a", 0, 4) + "}", "AAAA"));
  write(t.root + "/m2/model.safetensors.index.json", R"({"weight_map":{"a":"s1.safetensors","c":"p.safetensors"}})");
  const std::string fifo2 = t.root + "/m2/p.safetensors";
  CHECK(::mkfifo(fifo2.c_str(), 0600) == 0);
  EXPECT_ERR(ms::ModelSource::open(t.root + "/m2", &policy), IDX_SHARD_MISSING, "not a regular file");
}

TEST(policy_missing_paths_are_judged_by_their_ancestor) {
  Tree t;
  const ms::PathPolicy policy = ms::make_path_policy({t.root});
  // Outside: refused without saying whether it exists.
  EXPECT_ERR(ms::ModelSource::open(t.outside + "/nope/model", &policy), PATH_NOT_ALLOWED, t.outside + "/nope/model");
  EXPECT_ERR(ms::ModelSource::open("/definitely/not/here", &policy), PATH_NOT_ALLOWED, "/definitely/not/here");
  std::filesystem::create_symlink(t.outside, t.root + "/out");
  EXPECT_ERR(ms::ModelSource::open(t.root + "/out/missing", &policy), PATH_NOT_ALLOWED, t.root + "/out/missing");
  // Inside: the ordinary "no such file" answer.
  EXPECT_ERR(ms::ModelSource::open(t.root + "/missing/model", &policy), MODEL_NOT_FOUND, t.root + "/missing/model");
}
