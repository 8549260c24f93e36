// Streaming writer of sharded safetensors in the Hugging Face layout.
//
// All tensor specs are known up front, so every shard header is final before
// the first byte is written and tensor data is streamed straight to disk
// (a tensor may arrive in pieces). Sharding follows transformers'
// shard_checkpoint greedy rule: tensors in the given order; a new shard starts
// when adding a tensor would exceed max_shard_bytes (tensor data only, not
// headers) and the current shard is non-empty, so a tensor larger than the
// limit gets a shard of its own.
//
// One shard -> "model.safetensors" and no index (like save_pretrained).
// Several -> "model-00001-of-0000N.safetensors" + model.safetensors.index.json
// ({"metadata": {"total_size": N}, "weight_map": {...}}, sorted keys, indent 2).
// Shard header: "__metadata__" first, then tensors in write order, contiguous
// offsets, JSON padded with spaces to a multiple of 8 bytes.
//
// Files are created with O_EXCL in `dir` (which must exist). The writer never
// deletes anything, even on error: the caller owns the staging directory.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "safetensors.h"
#include "sha256.h"

namespace ms {

struct OutTensorSpec {
  std::string name;
  StDtype dtype = StDtype::F32;
  std::vector<uint64_t> shape;
};

struct ShardFile {
  std::string filename;  // relative to dir
  uint64_t bytes = 0;    // whole file size
  std::string sha256;    // lowercase hex of the whole file
};

using StringPairs = std::vector<std::pair<std::string, std::string>>;

class ParallelHasher;

class ShardWriter {
 public:
  // Validates the specs (unique UTF-8 names, sizes without overflow: INTERNAL
  // otherwise; max_shard_bytes == 0: RECIPE_INVALID) and plans the shards.
  // metadata goes into every shard's "__metadata__" (omitted when empty).
  ShardWriter(const std::string& dir, std::vector<OutTensorSpec> specs, uint64_t max_shard_bytes,
              StringPairs metadata);
  ~ShardWriter();  // closes open files; never deletes them
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  // Writes the next tensor whole: nbytes must equal its spec size (INTERNAL
  // otherwise), and no part of it may have been written yet.
  void write_tensor(const void* bytes, uint64_t nbytes);
  // Appends a piece of the next tensor; the tensor is complete once its spec
  // size is reached (a zero-size tensor is completed by a 0-byte call).
  // More bytes than the tensor needs -> INTERNAL.
  void write_tensor_part(const void* bytes, uint64_t nbytes);
  // Requires every tensor written. fsyncs what remains, writes the index when
  // there are several shards, fsyncs it and the directory. Returns the shards.
  std::vector<ShardFile> finish();

  // Total bytes the output will take (headers + data + index file), for the
  // free-space check. Same validation as the constructor.
  static uint64_t planned_bytes(const std::vector<OutTensorSpec>& specs, uint64_t max_shard_bytes,
                                const StringPairs& metadata = {});

  uint32_t shard_count() const { return uint32_t(filenames_.size()); }
  const std::vector<std::string>& shard_filenames() const { return filenames_; }
  uint64_t tensor_bytes(size_t i) const { return nbytes_.at(i); }
  size_t tensors_written() const { return cur_; }

 private:
  void open_shard(uint32_t s);
  void close_shard();
  void emit(const void* p, uint64_t n);
  void flush_buffer();
  void write_out(const uint8_t* p, uint64_t n);
  void hash_and_write(const uint8_t* p, uint64_t n);
  void check_usable(const char* op) const;

  std::string dir_;
  std::vector<OutTensorSpec> specs_;
  std::vector<uint64_t> nbytes_;        // per tensor
  std::vector<uint32_t> shard_of_;      // per tensor
  std::vector<std::string> filenames_;  // per shard
  std::vector<std::string> headers_;    // per shard: 8-byte length + padded JSON
  std::vector<uint64_t> shard_bytes_;   // per shard: planned file size
  std::string index_json_;              // empty when one shard

  int fd_ = -1;
  uint32_t open_shard_ = 0;
  uint64_t shard_written_ = 0;  // bytes emitted to the open shard
  uint64_t fd_written_ = 0;     // bytes of the open shard handed to write()
  uint64_t wb_started_ = 0;     // bytes of the open shard whose writeback was started
  Sha256 sha_;
  std::vector<uint8_t> buf_;
  uint64_t buf_len_ = 0;
  size_t cur_ = 0;              // next tensor to complete
  uint64_t cur_written_ = 0;    // bytes of tensor cur_ written so far
  bool failed_ = false;         // an I/O error happened: the output is unusable
  bool finished_ = false;
  std::vector<ShardFile> done_;
  std::unique_ptr<ParallelHasher> hasher_;  // hashes big pieces while this thread writes them
};

// Throws OUT_NO_SPACE ("need X GB, Y GB free at DIR") if the filesystem of dir
// has fewer than needed_bytes available to unprivileged users; OUT_IO if it
// cannot be queried.
void check_free_space(const std::string& dir, uint64_t needed_bytes);

}  // namespace ms
