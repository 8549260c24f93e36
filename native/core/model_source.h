// A model to read tensors from: a Hugging Face model directory (sharded with
// model.safetensors.index.json, or a single model.safetensors) or a single
// .safetensors file. Every header is validated at open; shard files stay
// open so reads cannot be redirected by a rename between open and read.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "path_policy.h"
#include "safetensors.h"

namespace ms {

constexpr const char* kIndexFileName = "model.safetensors.index.json";
constexpr const char* kSingleFileName = "model.safetensors";
// index.json size limit. Real indexes are small (a 100k-tensor MoE model's is
// ~10 MB); parsing costs up to ~8 bytes of memory per input byte for hostile
// input (fuzzing found ~450 MB for 60 MB), so 32 MiB bounds it near 256 MB.
constexpr uint64_t kMaxIndexBytes = uint64_t(32) << 20;

struct ModelTensor {
  std::string name;
  uint32_t shard = 0;  // index into shard_paths()
  TensorInfo info;     // absolute offsets inside that shard
};

class ModelSource {
 public:
  // path: a directory or a file. A file ending in ".index.json" is read as an
  // index (shards resolved next to it); any other file as one safetensors
  // file. Throws MergeError (MODEL_NOT_FOUND, IDX_*, ST_*). With a policy,
  // `path` and every file opened (index, shards) must lie inside its roots
  // (PATH_NOT_ALLOWED otherwise; see path_policy.h).
  static ModelSource open(const std::string& path, const PathPolicy* policy = nullptr);

  const std::string& path() const { return path_; }
  const std::vector<std::string>& shard_paths() const { return shard_paths_; }
  const std::vector<ModelTensor>& tensors() const { return tensors_; }  // sorted by name
  const ModelTensor* find(std::string_view name) const;  // O(log n); nullptr if absent
  uint64_t total_bytes() const { return total_bytes_; }  // sum of tensor data bytes
  uint64_t parameter_count() const { return parameter_count_; }  // sum of numel
  // __metadata__ of each shard, in shard order.
  const std::vector<std::vector<std::pair<std::string, std::string>>>& shard_metadata() const {
    return shard_metadata_;
  }
  // Reads the tensor's bytes (t.info.nbytes()) into dst. Thread-safe.
  void read(void* dst, const ModelTensor& t) const;
  // Reads bytes [offset, offset + len) of the tensor's data into dst. Thread-safe.
  void read_part(void* dst, const ModelTensor& t, uint64_t offset, uint64_t len) const;

  ModelSource(ModelSource&&) noexcept = default;
  ModelSource& operator=(ModelSource&&) noexcept = default;
  ModelSource(const ModelSource&) = delete;
  ModelSource& operator=(const ModelSource&) = delete;

 private:
  ModelSource() = default;
  std::string path_;
  std::vector<std::string> shard_paths_;
  std::vector<FileReader> files_;
  std::vector<std::vector<std::pair<std::string, std::string>>> shard_metadata_;
  std::vector<ModelTensor> tensors_;
  uint64_t total_bytes_ = 0;
  uint64_t parameter_count_ = 0;
};

// Pure parser of model.safetensors.index.json (fuzzable): returns the
// weight_map as (tensor, shard file name) pairs in file order. "metadata" and
// other top-level keys are ignored. Throws MergeError:
//   IDX_JSON_INVALID        not JSON, not an object, duplicate keys anywhere
//   IDX_WEIGHT_MAP_INVALID  weight_map missing, empty or not {string: string}
//   IDX_SHARD_PATH_INVALID  a shard name that is not a plain file name
std::vector<std::pair<std::string, std::string>> parse_index_json(const char* data, size_t len,
                                                                  const std::string& label);

// True if name is a plain file name: non-empty, not "." or "..", no '/',
// '\\' or NUL (so it cannot escape the model directory).
bool is_plain_file_name(std::string_view name);

}  // namespace ms
