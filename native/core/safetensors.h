// Strict safetensors reader (as strict as huggingface/safetensors tensor.rs,
// stricter where tensor.rs is lenient: duplicate keys, unknown tensor fields).
//
// Layout: u64 little-endian N | N bytes UTF-8 JSON header (may be right-padded
// with spaces) | data section. Header: {"__metadata__": {str: str}?,
// name: {"dtype": str, "shape": [u64...], "data_offsets": [begin, end]}...},
// offsets relative to the data section, contiguous from 0, covering the data
// section exactly.
//
// Data is read with pread (never mmap: a file truncated under a mapping
// raises SIGBUS and kills the process).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "path_policy.h"

namespace ms {

// Every dtype tensor.rs knows. The first 15 keep their historical order;
// the newer (OCP MX / FNUZ / complex) ones follow.
enum class StDtype : uint8_t {
  BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64,
  F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ, F4, F6_E2M3, F6_E3M2, C64,
};
constexpr int kStDtypeCount = 22;

const char* st_dtype_name(StDtype d);   // "F32", "BF16", ...
uint64_t st_dtype_bits(StDtype d);      // bits per element: 4 (F4), 6 (F6_*), 8..64
// Parses a header dtype string (exact, case-sensitive). False if unknown.
bool st_dtype_from_name(StDtype* out, std::string_view s);

constexpr uint64_t kStMaxHeaderBytes = 100000000;  // same limit as tensor.rs

struct TensorInfo {
  std::string name;
  StDtype dtype = StDtype::F32;
  std::vector<uint64_t> shape;
  uint64_t numel = 1;        // product of shape (1 for a scalar, 0 if any dim is 0)
  uint64_t data_begin = 0;   // ABSOLUTE file offsets [begin, end)
  uint64_t data_end = 0;
  uint64_t nbytes() const { return data_end - data_begin; }
};

struct SafetensorsHeader {
  uint64_t header_len = 0;   // N
  uint64_t data_start = 0;   // 8 + N
  uint64_t file_size = 0;
  std::vector<TensorInfo> tensors;  // sorted by data_begin (ties: header order)
  std::vector<std::pair<std::string, std::string>> metadata;  // header order
  // Tensor by name, or nullptr. O(log n) when built by the parser.
  const TensorInfo* find(std::string_view name) const;
  std::vector<uint32_t> by_name;  // indices of tensors sorted by name (filled by the parser)
};

// Pure parser (fuzzable): buf holds the first bytes of a file of file_size
// bytes; it must hold min(file_size, 8 + N) bytes for a header to be parsed
// (fewer is fine when the file is rejected before that, e.g. N too large).
// file_label names the file in error messages. Throws MergeError(ST_*).
SafetensorsHeader parse_safetensors_header(const uint8_t* buf, uint64_t buf_len, uint64_t file_size,
                                           const std::string& file_label);

// Read-only file kept open for many preads (thread-safe: pread has no shared
// file position). The size is taken once at open; reads past what the file
// holds now throw ST_IO ("file changed or was truncated while reading").
class FileReader {
 public:
  // Throws ST_IO if the path cannot be opened or is not a regular file, and
  // PATH_NOT_ALLOWED if a policy is given and the opened file lies outside it.
  explicit FileReader(const std::string& path, const PathPolicy* policy = nullptr);
  ~FileReader();
  FileReader(FileReader&& o) noexcept;
  FileReader& operator=(FileReader&& o) noexcept;
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }  // size at open
  // Reads exactly len bytes at offset into dst (EINTR and short reads
  // handled). `what` names the object being read for error messages
  // (e.g. "tensor 'x'"); may be empty.
  void pread_exact(void* dst, uint64_t offset, uint64_t len, std::string_view what = {}) const;
  // Bulk read of the byte range [begin, end) of the file.
  void read_range(void* dst, uint64_t begin, uint64_t end) const;
  // Reads a tensor's bytes (info.nbytes() bytes) into dst.
  void read_tensor(void* dst, const TensorInfo& info) const;
  // Reads len bytes starting offset bytes into the tensor's data (same checks;
  // a range outside the tensor is INTERNAL). For streaming a tensor in pieces.
  void read_tensor_part(void* dst, const TensorInfo& info, uint64_t offset, uint64_t len) const;

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Reads and validates the header through an open reader: checks magic bytes,
// reads the 8-byte length, validates N against the limit and the file size
// before allocating, reads the header and parses it.
SafetensorsHeader read_safetensors_header(const FileReader& file);
SafetensorsHeader read_safetensors_header(const std::string& path);

// One-shot: opens path, reads the tensor's bytes into dst, closes.
void read_tensor_bytes(void* dst, const std::string& path, const TensorInfo& info);

}  // namespace ms
