// Model directory / file resolution and cross-checks between index and shards.
#include "model_source.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "errors.h"
#include "json.h"

namespace ms {

namespace {

constexpr const char* kFixIndex =
    "Re-download model.safetensors.index.json (and the shards) from the model repository.";

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string dir_of(const std::string& file) {
  const size_t s = file.find_last_of('/');
  if (s == std::string::npos) return ".";
  return s == 0 ? "/" : file.substr(0, s);
}

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}

// Names from untrusted files: quoted, escaped, capped.
std::string q(std::string_view name) {
  constexpr size_t kMax = 200;
  bool cut = false;
  if (name.size() > kMax) {
    size_t n = kMax;
    while (n > 0 && (uint8_t(name[n]) & 0xC0) == 0x80) --n;
    name = name.substr(0, n);
    cut = true;
  }
  std::string out;
  json::append_quoted(&out, name);
  if (cut) out.insert(out.size() - 1, "...");
  return out;
}

enum class Kind { Missing, File, Dir, Other };
Kind stat_kind(const std::string& p, int* err = nullptr) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) {
    if (err) *err = errno;
    return Kind::Missing;
  }
  if (S_ISREG(st.st_mode)) return Kind::File;
  if (S_ISDIR(st.st_mode)) return Kind::Dir;
  return Kind::Other;
}

// Explains why a directory holds no usable weights, naming what it does hold.
[[noreturn]] void not_found_in_dir(const std::string& dir) {
  std::string msg = dir + ": no safetensors weights found (looked for " + kIndexFileName + " and " +
                    kSingleFileName + ")";
  std::vector<std::string> st_files;
  bool pickle = false, gguf = false, adapter = false;
  if (DIR* d = ::opendir(dir.c_str())) {
    int seen = 0;
    while (const dirent* e = ::readdir(d)) {
      if (++seen > 100000) break;  // huge directories: the hint is best effort
      const std::string n = e->d_name;
      if (n == "adapter_model.safetensors") adapter = true;
      else if (ends_with(n, ".safetensors") && st_files.size() < 5) st_files.push_back(n);
      if (n == "pytorch_model.bin" || n == "pytorch_model.bin.index.json" || ends_with(n, ".bin") ||
          ends_with(n, ".pt") || ends_with(n, ".pth"))
        pickle = true;
      if (ends_with(n, ".gguf")) gguf = true;
    }
    ::closedir(d);
  }
  if (adapter)
    msg += ". It holds adapter_model.safetensors, a LoRA/PEFT adapter: merge the adapter into its base model "
           "first (e.g. peft merge_and_unload + save_pretrained)";
  if (pickle)
    msg += ". It holds PyTorch pickle weights (pytorch_model.bin / .pt): convert them to safetensors first "
           "(load with transformers and call save_pretrained(dir, safe_serialization=True))";
  if (gguf) msg += ". GGUF files are not supported: use the original Hugging Face safetensors checkpoint";
  if (!st_files.empty()) {
    msg += ". It holds other .safetensors files (";
    for (size_t i = 0; i < st_files.size(); ++i) msg += (i ? ", " : "") + st_files[i];
    msg += "): pass the path of the file to use, or add a " + std::string(kIndexFileName);
  }
  if (!adapter && !pickle && !gguf && st_files.empty())
    msg += ". Point to a Hugging Face model directory (with config.json and *.safetensors) or a .safetensors file";
  throw MergeError(ErrorCode::MODEL_NOT_FOUND, msg + ".");
}

}  // namespace

bool is_plain_file_name(std::string_view n) {
  if (n.empty() || n == "." || n == "..") return false;
  for (const char c : n)
    if (c == '/' || c == '\\' || c == '\0') return false;
  return true;
}

std::vector<std::pair<std::string, std::string>> parse_index_json(const char* data, size_t len,
                                                                  const std::string& label) {
  const json::ParseResult pr = json::parse(data, len);
  if (!pr.ok)
    throw MergeError(ErrorCode::IDX_JSON_INVALID, label + ": not valid JSON: " + pr.message + " at byte " +
                                                      std::to_string(pr.offset) + ". " + kFixIndex);
  const json::Value root = pr.doc.root();
  if (!root.is_object())
    throw MergeError(ErrorCode::IDX_JSON_INVALID,
                     label + ": the index must be a JSON object with a \"weight_map\". " + kFixIndex);
  const json::Value wm = root.get("weight_map");
  if (!wm.is_object())
    throw MergeError(ErrorCode::IDX_WEIGHT_MAP_INVALID,
                     label + (wm.valid() ? ": \"weight_map\" is not an object of tensor name -> shard file name. "
                                         : ": \"weight_map\" is missing. ") + kFixIndex);
  if (wm.size() == 0)
    throw MergeError(ErrorCode::IDX_WEIGHT_MAP_INVALID, label + ": \"weight_map\" lists no tensors. " + kFixIndex);
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(wm.size());
  for (const auto m : wm.members()) {
    if (!m.value.is_string())
      throw MergeError(ErrorCode::IDX_WEIGHT_MAP_INVALID,
                       label + ": the weight_map entry of tensor " + q(m.key) +
                           " is not a string (expected a shard file name). " + kFixIndex);
    if (!is_plain_file_name(m.value.str()))
      throw MergeError(ErrorCode::IDX_SHARD_PATH_INVALID,
                       label + ": tensor " + q(m.key) + " is mapped to " + q(m.value.str()) +
                           ", which is not a plain file name inside the model directory (no '/', '\\' or '..'). "
                           "The index may be malicious or corrupt: re-download it from a trusted source.");
    out.emplace_back(std::string(m.key), std::string(m.value.str()));
  }
  return out;
}

const ModelTensor* ModelSource::find(std::string_view name) const {
  auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                             [](const ModelTensor& t, std::string_view n) { return t.name < n; });
  return (it != tensors_.end() && it->name == name) ? &*it : nullptr;
}

void ModelSource::read(void* dst, const ModelTensor& t) const {
  if (t.shard >= files_.size())
    throw MergeError(ErrorCode::INTERNAL, path_ + ": tensor " + q(t.name) + " has shard " +
                                              std::to_string(t.shard) + " of " + std::to_string(files_.size()));
  files_[t.shard].read_tensor(dst, t.info);
}

void ModelSource::read_part(void* dst, const ModelTensor& t, uint64_t offset, uint64_t len) const {
  if (t.shard >= files_.size())
    throw MergeError(ErrorCode::INTERNAL, path_ + ": tensor " + q(t.name) + " has shard " +
                                              std::to_string(t.shard) + " of " + std::to_string(files_.size()));
  files_[t.shard].read_tensor_part(dst, t.info, offset, len);
}

ModelSource ModelSource::open(const std::string& path, const PathPolicy* policy) {
  // Before anything is stat'ed or listed, so nothing outside the roots is described.
  if (policy) check_path_inside(*policy, path);
  int err = 0;
  const Kind k = stat_kind(path, &err);
  if (k == Kind::Missing)
    throw MergeError(ErrorCode::MODEL_NOT_FOUND,
                     path + ": " + (err == ENOENT || err == ENOTDIR ? std::string("no such file or directory")
                                                                   : std::string(std::strerror(err))) +
                         ". Check the model path.");
  if (k == Kind::Other)
    throw MergeError(ErrorCode::MODEL_NOT_FOUND,
                     path + ": not a regular file or directory. Point to a model directory or a .safetensors file.");

  ModelSource ms;
  ms.path_ = path;
  std::string index_path, dir;
  if (k == Kind::Dir) {
    dir = path;
    const std::string idx = join_path(dir, kIndexFileName);
    const std::string single = join_path(dir, kSingleFileName);
    if (stat_kind(idx) == Kind::File) index_path = idx;
    else if (stat_kind(single) == Kind::File) ms.shard_paths_.push_back(single);
    else not_found_in_dir(dir);
  } else if (ends_with(path, ".index.json")) {
    index_path = path;
    dir = dir_of(path);
  } else {
    ms.shard_paths_.push_back(path);
  }

  std::vector<std::pair<std::string, std::string>> wmap;
  std::unordered_map<std::string, uint32_t> shard_ix;  // shard file name -> shard index
  if (!index_path.empty()) {
    FileReader f(index_path, policy);
    if (f.size() > kMaxIndexBytes)
      throw MergeError(ErrorCode::IDX_JSON_INVALID, index_path + ": the index is " + std::to_string(f.size()) +
                                                        " bytes, above the " + std::to_string(kMaxIndexBytes) +
                                                        "-byte limit. " + kFixIndex);
    std::string text(f.size(), '\0');
    f.pread_exact(text.data(), 0, text.size(), "the index");
    wmap = parse_index_json(text.data(), text.size(), index_path);
    // Shards in order of first appearance in the weight map.
    std::vector<std::string> shard_names;
    for (const auto& [tensor, shard] : wmap) {
      if (shard_ix.emplace(shard, uint32_t(shard_names.size())).second) shard_names.push_back(shard);
    }
    for (const auto& name : shard_names) {
      const std::string p = join_path(dir, name);
      const Kind sk = stat_kind(p);
      if (sk != Kind::File) {
        std::string example;
        uint64_t count = 0;
        for (const auto& [tensor, shard] : wmap)
          if (shard == name && count++ == 0) example = tensor;
        throw MergeError(ErrorCode::IDX_SHARD_MISSING,
                         index_path + ": lists shard " + q(name) + " (" + std::to_string(count) +
                             " tensors, e.g. " + q(example) + ") but " + p +
                             (sk == Kind::Missing ? " does not exist" : " is not a regular file") +
                             ". Download every shard listed in the index (an interrupted download?).");
      }
      ms.shard_paths_.push_back(p);
    }
  }

  std::vector<SafetensorsHeader> headers;
  headers.reserve(ms.shard_paths_.size());
  for (const auto& p : ms.shard_paths_) {
    ms.files_.emplace_back(p, policy);
    headers.push_back(read_safetensors_header(ms.files_.back()));
  }

  if (!index_path.empty()) {
    // The index and the shard headers must describe the same tensors exactly.
    std::unordered_map<std::string_view, uint32_t> where;  // tensor -> shard (from the index)
    where.reserve(wmap.size());
    for (const auto& [tensor, shard] : wmap) where.emplace(tensor, shard_ix.at(shard));
    for (const auto& [tensor, shard] : wmap) {  // file order: deterministic first error
      const uint32_t s = shard_ix.at(shard);
      if (!headers[s].find(tensor))
        throw MergeError(ErrorCode::IDX_TENSOR_NOT_IN_SHARD,
                         index_path + ": maps tensor " + q(tensor) + " to " + ms.shard_paths_[s] +
                             ", but that shard does not hold it. The index and the shards are from different "
                             "versions of the model: re-download them together.");
    }
    for (uint32_t s = 0; s < headers.size(); ++s) {
      for (const auto& t : headers[s].tensors) {
        auto it = where.find(t.name);
        if (it == where.end())
          throw MergeError(ErrorCode::IDX_TENSOR_NOT_IN_SHARD,
                           ms.shard_paths_[s] + ": holds tensor " + q(t.name) + ", which " + index_path +
                               " does not list. The index and the shards are from different versions of the "
                               "model: re-download them together.");
        if (it->second != s)
          throw MergeError(ErrorCode::IDX_TENSOR_NOT_IN_SHARD,
                           index_path + ": tensor " + q(t.name) + " is stored in both " + ms.shard_paths_[s] +
                               " and " + ms.shard_paths_[it->second] +
                               " (the index names the latter). Re-download the model.");
      }
    }
  }

  for (uint32_t s = 0; s < headers.size(); ++s) {
    ms.shard_metadata_.push_back(std::move(headers[s].metadata));
    for (auto& t : headers[s].tensors) {
      uint64_t nb = t.nbytes();
      if (__builtin_add_overflow(ms.total_bytes_, nb, &ms.total_bytes_) ||
          __builtin_add_overflow(ms.parameter_count_, t.numel, &ms.parameter_count_))
        throw MergeError(ErrorCode::INTERNAL, path + ": model size overflows 64 bits");
      std::string name = t.name;
      ms.tensors_.push_back(ModelTensor{std::move(name), s, std::move(t)});
    }
  }
  std::sort(ms.tensors_.begin(), ms.tensors_.end(),
            [](const ModelTensor& a, const ModelTensor& b) { return a.name < b.name; });
  // A single file cannot repeat a name (the header parser rejects duplicate
  // keys) and the index checks above rule out cross-shard repeats.
  return ms;
}

}  // namespace ms
